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
//   4 k_cache: (max_seq, KV_DIM / 2) KvPair (kv_f32.wgsl or kv_f16.wgsl), rows pos0 ..
//      pos0 + n_tokens written, rotated
//   5 v_cache: (max_seq, KV_DIM / 2) KvPair, rows pos0 .. pos0 + n_tokens written
// Dispatch: ceil(n_tokens * (N_HEADS + 2 N_KV_HEADS) * HEAD_DIM / 4 / WG) workgroups, flattened;
// one thread per two adjacent rotated pairs (j, j + h), (j + 1, j + 1 + h), so k is stored as
// whole KvPairs (or per four v elements copied). HEAD_DIM is a multiple of 4.

override N_HEADS: u32;
override N_KV_HEADS: u32;
override HEAD_DIM: u32;
override WG: u32 = 256;

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read> rope: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read_write> q: array<f32>;
@group(0) @binding(4) var<storage, read_write> k_cache: array<KvPair>;
@group(0) @binding(5) var<storage, read_write> v_cache: array<KvPair>;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) tid: u32,
) {
  let half = HEAD_DIM / 2u;
  let quarter = HEAD_DIM / 4u;
  let q_dim = N_HEADS * HEAD_DIM;
  let kv_dim = N_KV_HEADS * HEAD_DIM;
  let slots = (N_HEADS + 2u * N_KV_HEADS) * quarter;
  let i = flat_workgroup(wid, nwg) * WG + tid;
  if (i >= step.n_tokens * slots) {
    return;
  }
  let t = i / slots;
  let s = i % slots;
  let head_slot = s / quarter; // q heads, then k heads, then v heads
  let m = s % quarter;
  let pos = step.pos0 + t;
  let row = t * (q_dim + 2u * kv_dim);

  if (head_slot < N_HEADS + N_KV_HEADS) {
    let is_q = head_slot < N_HEADS;
    let head = select(head_slot - N_HEADS, head_slot, is_q);
    let j = 2u * m;
    let src = row + select(q_dim, 0u, is_q) + head * HEAD_DIM + j;
    let a = vec2<f32>(qkv[src], qkv[src + 1u]);
    let b = vec2<f32>(qkv[src + half], qkv[src + half + 1u]);
    let rotated = rope_pairs(a, b, rope[pos * half + j], rope[pos * half + j + 1u]);
    let ra = rotated.a;
    let rb = rotated.b;
    if (is_q) {
      let dst = t * q_dim + head * HEAD_DIM + j;
      q[dst] = ra.x;
      q[dst + 1u] = ra.y;
      q[dst + half] = rb.x;
      q[dst + half + 1u] = rb.y;
    } else {
      let dst = (pos * kv_dim + head * HEAD_DIM + j) / 2u;
      k_cache[dst] = kv_pack(ra);
      k_cache[dst + half / 2u] = kv_pack(rb);
    }
  } else {
    let e = (head_slot - N_HEADS - N_KV_HEADS) * HEAD_DIM + 4u * m;
    let src = row + q_dim + kv_dim + e;
    let dst = (pos * kv_dim + e) / 2u;
    v_cache[dst] = kv_pack(vec2<f32>(qkv[src], qkv[src + 1u]));
    v_cache[dst + 1u] = kv_pack(vec2<f32>(qkv[src + 2u], qkv[src + 3u]));
  }
}
