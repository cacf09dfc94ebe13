// weights_q4.wgsl: weight accessor for 4-bit matrices: groups of 32 consecutive elements of a
// row share one f16 scale; element = (code - 8) * scale, code in 0..15 (symmetric, see
// quantize_q4.wgsl). Composed after common.wgsl and before a kernel that declares
// `override IN_DIM: u32` (a multiple of 32) and calls weight8().
//
// Bindings (group 1):
//   0 weight: (rows, IN_DIM / 8) u32; element 8j + i in bits 4i .. 4i + 3 of u32 j
//   1 scales: (rows, ceil(IN_DIM / 64)) u32; group 2g in the low half, 2g + 1 in the high half

@group(1) @binding(0) var<storage, read> weight: array<u32>;
@group(1) @binding(1) var<storage, read> scales: array<u32>;

fn weight8(row: u32, k8: u32) -> W8 {
  let codes = weight[row * (IN_DIM / 8u) + k8];
  let group = k8 / 4u;
  let scale = unpack2x16float(scales[row * ((IN_DIM + 63u) / 64u) + group / 2u])[group & 1u];
  let shifts_lo = vec4<u32>(0u, 4u, 8u, 12u);
  let shifts_hi = vec4<u32>(16u, 20u, 24u, 28u);
  let lo = vec4<f32>((vec4<u32>(codes) >> shifts_lo) & vec4<u32>(15u)) - 8.0;
  let hi = vec4<f32>((vec4<u32>(codes) >> shifts_hi) & vec4<u32>(15u)) - 8.0;
  return W8(lo * scale, hi * scale);
}
