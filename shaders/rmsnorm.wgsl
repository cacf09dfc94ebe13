// rmsnorm.wgsl: y = x / sqrt(mean(x^2) + EPS) * gain, per row (transformers' LlamaRMSNorm).
//
// Bindings (group 0):
//   0 step: Step (n_tokens rows)
//   1 x: (n_tokens, DIM) f32
//   2 gain: (DIM) f32
//   3 y: (n_tokens, DIM) f32, or (1, DIM) when LAST_ROW_ONLY
// Dispatch: n_tokens workgroups, or 1 when LAST_ROW_ONLY (the final norm before sampling only
// needs the last position). Each workgroup reduces one row with reduce_workgroup.wgsl's
// reduce_partials(), composed before this file.

override DIM: u32;
override EPS: f32;
override WG: u32 = 256;
override LAST_ROW_ONLY: bool = false;
override PARTIALS: u32 = 1; // reduce_partials() sums one value: the row's sum of squares
const MAX_PARTIALS: u32 = 1u;

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gain: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  var row_in = wid.x;
  var row_out = wid.x;
  if (LAST_ROW_ONLY) {
    row_in = step.n_tokens - 1u;
    row_out = 0u;
  }
  let base_in = row_in * DIM;
  var sum = 0.0;
  for (var i = tid; i < DIM; i += WG) {
    let v = x[base_in + i];
    sum += v * v;
  }
  let total = reduce_partials(array<f32, MAX_PARTIALS>(sum), tid); // on every thread (one partial)
  let inv_rms = inverseSqrt(total / f32(DIM) + EPS);
  let base_out = row_out * DIM;
  for (var i = tid; i < DIM; i += WG) {
    y[base_out + i] = x[base_in + i] * inv_rms * gain[i];
  }
}
