// weights_f32.wgsl: weight accessor for f32 matrices. Composed after common.wgsl and before a
// kernel that declares `override IN_DIM: u32` (the row length) and calls weight8().
//
// Bindings (group 1, shared by every kernel reading this matrix):
//   0 weight: (rows, IN_DIM) f32, row-major (PyTorch nn.Linear layout: out_features x in_features)

@group(1) @binding(0) var<storage, read> weight: array<vec4<f32>>; // (rows, IN_DIM / 4)

// Elements [8 * k8, 8 * k8 + 8) of `row`.
fn weight8(row: u32, k8: u32) -> W8 {
  let i = row * (IN_DIM / 4u) + 2u * k8;
  return W8(weight[i], weight[i + 1u]);
}
