// decode_rope.wgsl: rope_kv.wgsl's work for the one new token of a decode step, done inside
// attention_decode_gqa.wgsl (composed before it; uses its bindings qkv, rope, k_cache, v_cache,
// its q_scaled and its constants): the rotated query heads of one KV head's group, scaled by
// 1 / sqrt(HEAD_DIM), into workgroup memory, and the new k (rotated) and v into the cache. Each
// thread takes two adjacent elements and their rotate_half partners (rope_pairs in
// common.wgsl), so k is stored as whole KvPairs; HEAD_DIM is a multiple of 4.

// Elements j, j + 1 of the head starting at qkv[src], and their partners, rotated at `pos`.
fn rotate_at(src: u32, j: u32, pos: u32) -> RopePairs {
  let half_dim = HEAD_DIM / 2u;
  let a = vec2<f32>(qkv[src + j], qkv[src + j + 1u]);
  let b = vec2<f32>(qkv[src + j + half_dim], qkv[src + j + half_dim + 1u]);
  return rope_pairs(a, b, rope[pos * half_dim + j], rope[pos * half_dim + j + 1u]);
}

// q_scaled[h * HEAD_DIM ..] = rope(q of head kv_head * GROUP + h) / sqrt(HEAD_DIM), h < GROUP.
fn rotate_queries(kv_head: u32, pos: u32, tid: u32) {
  let quarter = HEAD_DIM / 4u;
  let half_dim = HEAD_DIM / 2u;
  let scale = inverseSqrt(f32(HEAD_DIM));
  for (var i = tid; i < GROUP * quarter; i += WG) {
    let h = i / quarter;
    let j = 2u * (i % quarter);
    let rotated = rotate_at((kv_head * GROUP + h) * HEAD_DIM, j, pos);
    let dst = h * HEAD_DIM + j;
    q_scaled[dst] = rotated.a.x * scale;
    q_scaled[dst + 1u] = rotated.a.y * scale;
    q_scaled[dst + half_dim] = rotated.b.x * scale;
    q_scaled[dst + half_dim + 1u] = rotated.b.y * scale;
  }
}

// Cache row `pos` of this KV head: k rotated, v as it came.
fn store_new_row(kv_head: u32, pos: u32, tid: u32) {
  let q_dim = N_HEADS * HEAD_DIM;
  let kv_dim = N_KV_HEADS * HEAD_DIM;
  let dst = (pos * kv_dim + kv_head * HEAD_DIM) / 2u;
  for (var m = tid; m < HEAD_DIM / 4u; m += WG) {
    let rotated = rotate_at(q_dim + kv_head * HEAD_DIM, 2u * m, pos);
    k_cache[dst + m] = kv_pack(rotated.a);
    k_cache[dst + m + HEAD_DIM / 4u] = kv_pack(rotated.b);
  }
  for (var p = tid; p < HEAD_DIM / 2u; p += WG) {
    let v_src = q_dim + kv_dim + kv_head * HEAD_DIM + 2u * p;
    v_cache[dst + p] = kv_pack(vec2<f32>(qkv[v_src], qkv[v_src + 1u]));
  }
}
