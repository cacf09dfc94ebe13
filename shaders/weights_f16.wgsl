// weights_f16.wgsl: weight accessor for f16 matrices stored two halves per u32, which works on
// every adapter (shader-f16 is optional in WebGPU and absent on SwiftShader). Composed after
// common.wgsl and before a kernel that declares `override IN_DIM: u32` and calls weight8().
//
// Bindings (group 1):
//   0 weight: (rows, IN_DIM) f16, row-major; element 2j in the low half of u32 j

@group(1) @binding(0) var<storage, read> weight: array<vec4<u32>>; // (rows, IN_DIM / 8)

fn weight8(row: u32, k8: u32) -> W8 {
  return unpack_f16x8(weight[row * (IN_DIM / 8u) + k8]);
}
