// rope_kv.wgsl: rotary position embedding on q and k (transformers' apply_rotary_pos_emb with
// rotate_half: element j pairs with j + HEAD_DIM / 2), then k and v appended to the KV cache.
//   q'[j]        = q[j] cos(p f_j) - q[j + h] sin(p f_j)
//   q'[j + h]    = q[j + h] cos(p f_j) + q[j] sin(p f_j),   h = HEAD_DIM / 2, p = pos0 + row
//
// Bindings (group 0):
//   0 step: Step (n_tokens, pos0)
//   1 qkv: (n_tokens, Q_DIM + 2 KV_DIM) f32; per row q, k, v projections (one fused matmul)
//   2 rope: (max_pos, HEAD_DIM / 2) vec2<f32> (cos, sin), computed in float64 on the CPU
//   3 q: (n_tokens, Q_DIM) f32, rotated
//   4 k_cache: (max_seq, KV_DIM) f32, rows pos0 .. pos0 + n_tokens written, rotated
//   5 v_cache: (max_seq, KV_DIM) f32, rows pos0 .. pos0 + n_tokens written
// Dispatch: ceil(n_tokens * (N_HEADS + 2 N_KV_HEADS) * HEAD_DIM / 2 / WG) workgroups, flattened;
// one thread per rotated pair (or per pair of v elements copied).

override N_HEADS: u32;
override N_KV_HEADS: u32;
override HEAD_DIM: u32;
override WG: u32 = 256;

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read> rope: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read_write> q: array<f32>;
@group(0) @binding(4) var<storage, read_write> k_cache: array<f32>;
@group(0) @binding(5) var<storage, read_write> v_cache: array<f32>;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) tid: u32,
) {
  let half = HEAD_DIM / 2u;
  let q_dim = N_HEADS * HEAD_DIM;
  let kv_dim = N_KV_HEADS * HEAD_DIM;
  let slots = (N_HEADS + 2u * N_KV_HEADS) * half;
  let i = flat_workgroup(wid, nwg) * WG + tid;
  if (i >= step.n_tokens * slots) {
    return;
  }
  let t = i / slots;
  let s = i % slots;
  let pos = step.pos0 + t;
  let row = t * (q_dim + 2u * kv_dim);

  if (s < (N_HEADS + N_KV_HEADS) * half) {
    let is_q = s < N_HEADS * half;
    let head = select(s / half - N_HEADS, s / half, is_q);
    let j = s % half;
    let src = row + select(q_dim, 0u, is_q) + head * HEAD_DIM + j;
    let a = qkv[src];
    let b = qkv[src + half];
    let cs = rope[pos * half + j];
    let ra = a * cs.x - b * cs.y;
    let rb = b * cs.x + a * cs.y;
    if (is_q) {
      let dst = t * q_dim + head * HEAD_DIM + j;
      q[dst] = ra;
      q[dst + half] = rb;
    } else {
      let dst = pos * kv_dim + head * HEAD_DIM + j;
      k_cache[dst] = ra;
      k_cache[dst + half] = rb;
    }
  } else {
    let e = 2u * (s - (N_HEADS + N_KV_HEADS) * half);
    let src = row + q_dim + kv_dim + e;
    let dst = pos * kv_dim + e;
    v_cache[dst] = qkv[src];
    v_cache[dst + 1u] = qkv[src + 1u];
  }
}
