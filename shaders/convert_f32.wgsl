// convert_f32.wgsl: destination[offset + e] = source element e as f32 (from F16 or BF16).
//
// Bindings (group 0):
//   0 params: Convert
//   1 source: see source.wgsl
//   2 destination: f32 buffer; elements [offset, offset + count) written
// Dispatch: ceil(count / WG) workgroups, flattened over x and y.

struct Convert {
  count: u32,
  offset: u32,
}

override WG: u32 = 256;

@group(0) @binding(0) var<uniform> params: Convert;
@group(0) @binding(2) var<storage, read_write> destination: array<f32>;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) tid: u32,
) {
  let e = flat_workgroup(wid, nwg) * WG + tid;
  if (e < params.count) {
    destination[params.offset + e] = source_value(e);
  }
}
