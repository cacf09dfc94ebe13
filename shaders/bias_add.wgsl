// bias_add.wgsl: y[t] += bias for every row t of a chunk: Qwen2's q, k and v biases (transformers'
// Qwen2Attention, nn.Linear(bias=True)), added to the fused qkv projection before RoPE.
//
// Bindings (group 0):
//   0 step: Step (n_tokens)
//   1 bias: (DIM) f32; q's bias, then k's, then v's (the fused row's order)
//   2 y: (n_tokens, DIM) f32, in place
// Dispatch: ceil(n_tokens * DIM / 4 / WG) workgroups, flattened over x and y; one thread per
// four elements (DIM is a multiple of 4: head_dim is).

override DIM: u32;
override WG: u32 = 256;

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> bias: array<vec4<f32>>; // (DIM / 4)
@group(0) @binding(2) var<storage, read_write> y: array<vec4<f32>>; // (n_tokens, DIM / 4)

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) tid: u32,
) {
  let i = flat_workgroup(wid, nwg) * WG + tid;
  if (i >= step.n_tokens * (DIM / 4u)) {
    return;
  }
  y[i] += bias[i % (DIM / 4u)];
}
