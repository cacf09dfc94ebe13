// weights_f16_native.wgsl: weight accessor for f16 matrices on adapters with `shader-f16`: the
// same bytes as weights_f16.wgsl (two halves per u32, element 2j low), read as native f16
// vectors and widened to f32 (accumulation stays f32). Composed after common.wgsl and before a
// kernel that declares `override IN_DIM: u32` and calls weight8().
//
// Bindings (group 1):
//   0 weight: (rows, IN_DIM) f16, row-major
enable f16;

@group(1) @binding(0) var<storage, read> weight: array<vec4<f16>>; // (rows, IN_DIM / 4)

fn weight8(row: u32, k8: u32) -> W8 {
  let i = row * (IN_DIM / 4u) + 2u * k8;
  return W8(vec4<f32>(weight[i]), vec4<f32>(weight[i + 1u]));
}
