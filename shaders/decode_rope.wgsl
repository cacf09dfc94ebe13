// decode_rope.wgsl: rope_kv.wgsl's work for the one new token of a decode step, done inside
// attention_decode.wgsl with FUSED (composed before it; uses its bindings src, rope, k_cache,
// v_cache, its workgroup arrays q_scaled, k_new, v_new and its constants). Each thread takes two
// adjacent elements and their rotate_half partners (rope_pairs in common.wgsl), so k is stored
// as whole KvPairs; HEAD_DIM is a multiple of 4.

// Elements j, j + 1 of the head starting at src[base], and their rotate_half partners, at `pos`.
fn rotate_at(base: u32, j: u32, pos: u32) -> RopePairs {
  let half_dim = HEAD_DIM / 2u;
  let a = vec2<f32>(src[base + j], src[base + j + 1u]);
  let b = vec2<f32>(src[base + j + half_dim], src[base + j + half_dim + 1u]);
  return rope_pairs(a, b, rope[pos * half_dim + j], rope[pos * half_dim + j + 1u]);
}

// FUSED: this head's rotated, scaled query; in the chunk holding pos0 the new key and value as
// the cache holds them (after kv_pack), written to the cache by the group's first query head.
fn rotate_new_token(head: u32, kv_head: u32, pos: u32, holds_new: bool, tid: u32) {
  let half_dim = HEAD_DIM / 2u;
  let q_dim = N_HEADS * HEAD_DIM;
  let kv_dim = N_KV_HEADS * HEAD_DIM;
  let scale = inverseSqrt(f32(HEAD_DIM));
  let writes = holds_new && head % (N_HEADS / N_KV_HEADS) == 0u;
  let row = (pos * kv_dim + kv_head * HEAD_DIM) / 2u;
  for (var m = tid; m < HEAD_DIM / 4u; m += WG) {
    let j = 2u * m;
    let q = rotate_at(head * HEAD_DIM, j, pos);
    q_scaled[j] = q.a.x * scale;
    q_scaled[j + 1u] = q.a.y * scale;
    q_scaled[j + half_dim] = q.b.x * scale;
    q_scaled[j + half_dim + 1u] = q.b.y * scale;
    if (holds_new) {
      let k = rotate_at(q_dim + kv_head * HEAD_DIM, j, pos);
      let ka = kv_pack(k.a);
      let kb = kv_pack(k.b);
      let stored_a = kv_unpack(ka);
      let stored_b = kv_unpack(kb);
      k_new[j] = stored_a.x;
      k_new[j + 1u] = stored_a.y;
      k_new[j + half_dim] = stored_b.x;
      k_new[j + half_dim + 1u] = stored_b.y;
      if (writes) {
        k_cache[row + m] = ka;
        k_cache[row + m + HEAD_DIM / 4u] = kb;
      }
    }
  }
  if (holds_new) {
    for (var p = tid; p < half_dim; p += WG) {
      let at = q_dim + kv_dim + kv_head * HEAD_DIM + 2u * p;
      let v = kv_pack(vec2<f32>(src[at], src[at + 1u]));
      v_new[p] = kv_unpack(v);
      if (writes) {
        v_cache[row + p] = v;
      }
    }
  }
}
