// head_rmsnorm.wgsl: RMSNorm over each head of q and k, in place in the fused qkv rows, before
// RoPE: Qwen3's q_norm and k_norm (transformers' Qwen3Attention: Qwen3RMSNorm(head_dim) applied
// to q_proj(x).view(..., head_dim), one gain shared by all heads of q, another by those of k).
//   x_h = x_h / sqrt(mean(x_h^2) + EPS) * gain,  for the N_HEADS q heads and N_KV_HEADS k heads
// v is left alone.
//
// Bindings (group 0):
//   0 step: Step (n_tokens)
//   1 q_gain: (HEAD_DIM) f32
//   2 k_gain: (HEAD_DIM) f32
//   3 qkv: (n_tokens, (N_HEADS + 2 N_KV_HEADS) * HEAD_DIM) f32, in place
// Dispatch: (N_HEADS + N_KV_HEADS, n_tokens) workgroups, one per head and token; each thread
// holds HEAD_DIM / WG elements (looping), summed by reduce_workgroup.wgsl's reduce_partials()
// (composed before this file), as rmsnorm.wgsl sums a row.

override N_HEADS: u32;
override N_KV_HEADS: u32;
override HEAD_DIM: u32;
override EPS: f32;
override WG: u32 = 64; // a power of two
override PARTIALS: u32 = 1; // reduce_partials() sums one value: the head's sum of squares
const MAX_PARTIALS: u32 = 1u;

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> q_gain: array<f32>;
@group(0) @binding(2) var<storage, read> k_gain: array<f32>;
@group(0) @binding(3) var<storage, read_write> qkv: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let head = wid.x; // q heads, then k heads
  let t = wid.y;
  let is_q = head < N_HEADS;
  let base = t * (N_HEADS + 2u * N_KV_HEADS) * HEAD_DIM + head * HEAD_DIM;
  var sum = 0.0;
  for (var i = tid; i < HEAD_DIM; i += WG) {
    let v = qkv[base + i];
    sum += v * v;
  }
  let total = reduce_partials(array<f32, MAX_PARTIALS>(sum), tid); // on every thread (one partial)
  let inv_rms = inverseSqrt(total / f32(HEAD_DIM) + EPS);
  for (var i = tid; i < HEAD_DIM; i += WG) {
    let gain = select(k_gain[i], q_gain[i], is_q);
    qkv[base + i] = qkv[base + i] * inv_rms * gain;
  }
}
