// convert_f16.wgsl: destination halves [offset, offset + count) = source elements as f16
// (from F32 or BF16), rounded to nearest even, two per u32.
//
// Bindings (group 0):
//   0 params: Convert (count and offset even)
//   1 source: see source.wgsl
//   2 destination: f16 packed two per u32
// Dispatch: ceil(count / 2 / WG) workgroups, flattened; one thread per output u32.

struct Convert {
  count: u32,
  offset: u32,
}

override WG: u32 = 256;

@group(0) @binding(0) var<uniform> params: Convert;
@group(0) @binding(2) var<storage, read_write> destination: array<u32>;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) tid: u32,
) {
  let p = flat_workgroup(wid, nwg) * WG + tid;
  if (2u * p < params.count) {
    let pair = vec2<f32>(source_value(2u * p), source_value(2u * p + 1u));
    destination[params.offset / 2u + p] = pack2x16float(pair);
  }
}
