// quantize_q4.wgsl: quantises rows of a checkpoint tensor to the q4 format read by
// weights_q4.wgsl, on the GPU as the tensor streams in.
// Per group of 32 consecutive elements of a row: scale d = m / -8 where m is the element of
// largest magnitude (sign kept), rounded to f16; code = clamp(round(x / d) + 8, 0, 15), so m
// itself is exact and all 16 codes are used (the scheme of llama.cpp's Q4_0; chosen by the
// measured error in src/model/quantize.test.ts).
//
// Bindings (group 0):
//   0 params: Quantize
//   1 source: see source.wgsl; rows [0, rows) of the chunk, IN_DIM elements each
//   2 codes: (all rows, IN_DIM / 8) u32; rows [row_offset, row_offset + rows) written
//   3 scales: (all rows, ceil(IN_DIM / 64)) u32 (two f16 scales each)
// Dispatch: ceil(rows * ceil(IN_DIM / 64) / WG) workgroups, flattened; a thread quantises two
// neighbouring groups of one row so it owns whole u32s of both outputs.

struct Quantize {
  rows: u32,
  row_offset: u32,
}

override IN_DIM: u32; // multiple of 32
override WG: u32 = 256;

@group(0) @binding(0) var<uniform> params: Quantize;
@group(0) @binding(2) var<storage, read_write> codes: array<u32>;
@group(0) @binding(3) var<storage, read_write> scales: array<u32>;

// x rounded to the nearest f16 (ties to even), as an f32. pack2x16float may round either way
// (WGSL leaves the direction to the implementation, and NVIDIA's Vulkan driver did not match
// the CPU mirror on an H200): rounded here, the value it packs is exact, so every GPU writes the
// same scales. Subnormal f16 (|x| < 2^-14) are multiples of 2^-24; round() is ties-to-even.
fn f16_nearest(x: f32) -> f32 {
  if (abs(x) < 6.103515625e-5) {
    return round(x * 16777216.0) * 5.9604644775390625e-8;
  }
  let bits = bitcast<u32>(x);
  return bitcast<f32>((bits + 0xfffu + ((bits >> 13u) & 1u)) & 0xffffe000u);
}

fn quantize_group(row: u32, group: u32) -> f32 {
  let base = row * IN_DIM + group * 32u;
  var extreme = 0.0;
  for (var i = 0u; i < 32u; i++) {
    let v = source_value(base + i);
    if (abs(v) > abs(extreme)) {
      extreme = v;
    }
  }
  let scale = f16_nearest(extreme * -0.125);
  let inverse = select(0.0, 1.0 / scale, scale != 0.0);
  let out_row = params.row_offset + row;
  for (var word = 0u; word < 4u; word++) {
    var packed = 0u;
    for (var i = 0u; i < 8u; i++) {
      let v = source_value(base + 8u * word + i);
      let code = u32(clamp(floor(v * inverse + 8.5), 0.0, 15.0));
      packed |= code << (4u * i);
    }
    codes[out_row * (IN_DIM / 8u) + group * 4u + word] = packed;
  }
  return scale;
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) tid: u32,
) {
  let pairs_per_row = (IN_DIM + 63u) / 64u;
  let i = flat_workgroup(wid, nwg) * WG + tid;
  if (i >= params.rows * pairs_per_row) {
    return;
  }
  let row = i / pairs_per_row;
  let pair = i % pairs_per_row;
  let first = quantize_group(row, 2u * pair);
  var second = 0.0;
  if (2u * pair + 1u < IN_DIM / 32u) {
    second = quantize_group(row, 2u * pair + 1u);
  }
  scales[(params.row_offset + row) * pairs_per_row + pair] = pack2x16float(vec2<f32>(first, second));
}
