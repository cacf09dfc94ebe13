// swiglu.wgsl: h = silu(gate) * up, the LLaMA MLP's activation (SiLU-gated linear unit).
//
// Bindings (group 0):
//   0 step: Step (n_tokens)
//   1 gate_up: (n_tokens, 2 * INTER) f32; per row gate_proj outputs then up_proj outputs
//              (one fused matmul writes both, see the weight layout in src/model/weights.ts)
//   2 h: (n_tokens, INTER) f32
// Dispatch: ceil(n_tokens * INTER / WG) workgroups, flattened over x and y.

override INTER: u32;
override WG: u32 = 256;

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> gate_up: array<f32>;
@group(0) @binding(2) var<storage, read_write> h: array<f32>;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) tid: u32,
) {
  let i = flat_workgroup(wid, nwg) * WG + tid;
  if (i >= step.n_tokens * INTER) {
    return;
  }
  let t = i / INTER;
  let j = i % INTER;
  let gate = gate_up[t * 2u * INTER + j];
  let up = gate_up[t * 2u * INTER + INTER + j];
  h[i] = silu(gate) * up;
}
