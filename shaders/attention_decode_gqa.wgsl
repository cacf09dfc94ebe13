// attention_decode_gqa.wgsl: decode attention for one new token, with what used to precede it
// (rope_kv.wgsl) folded in: RoPE on the query heads and on the new key, the new k and v stored
// in the cache, then attention over the cache. One workgroup serves one KV head and every query
// head sharing it (GQA), so each cached row is read once per group; a tile of keys is read by
// consecutive threads (coalesced) into workgroup memory before anyone scores it.
//   s_hj = rope(q_h) . k_j / sqrt(HEAD_DIM), j = 0 .. pos0, k_pos0 = rope(k), v_pos0 = v
// When every key fits one chunk (short contexts) this dispatch writes out_h = softmax(s_h) v
// and is the whole attention; otherwise each workgroup takes one chunk of keys (split-K, as
// attention_decode.wgsl) and writes acc = sum_j exp(s_hj - m) v_j, m = max_j s_hj and
// l = sum_j exp(s_hj - m) for attention_merge.wgsl.
//
// Composed after a KV accessor (kv_f32.wgsl / kv_f16.wgsl) and decode_rope.wgsl (the RoPE and
// the store of the new row).
// Bindings (group 0):
//   0 step: Step (n_tokens = 1, pos0 = the new token's position)
//   1 qkv: (N_HEADS * HEAD_DIM + 2 KV_DIM) f32, the qkv GEMV's output (not yet rotated)
//   2 rope: (max_pos, HEAD_DIM / 2) vec2<f32> (cos, sin)
//   3 k_cache: (max_seq, KV_DIM / 2) KvPair (kv_f32.wgsl or kv_f16.wgsl), row pos0 written here
//   4 v_cache: (max_seq, KV_DIM / 2) KvPair, row pos0 written here
//   5 out: (N_HEADS * HEAD_DIM) f32, written when one chunk holds every key
//   6 partials: (N_HEADS, MAX_CHUNKS, HEAD_DIM + 2) f32, written otherwise
// Dispatch: (N_KV_HEADS, decode_chunks(pos0 + 1, SINGLE_PASS_KEYS, CHUNK_KEYS, MAX_CHUNKS)).
// Tunables: WG, TILE (keys staged at once), SINGLE_PASS_KEYS, CHUNK_KEYS. KV_DIM = N_KV_HEADS *
// HEAD_DIM; HEAD_DIM is a multiple of 4 and at most 2 * WG * MAX_PAIRS_PER_THREAD.

override N_HEADS: u32;
override N_KV_HEADS: u32;
override HEAD_DIM: u32;
override MAX_CHUNKS: u32;
override SINGLE_PASS_KEYS: u32 = 256;
override CHUNK_KEYS: u32 = 64;
override WG: u32 = 64;
override TILE: u32 = 32;
override GROUP: u32 = N_HEADS / N_KV_HEADS; // <= MAX_GROUP
const MAX_GROUP: u32 = 8u;
const MAX_PAIRS_PER_THREAD: u32 = 2u;

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read> rope: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read_write> k_cache: array<KvPair>;
@group(0) @binding(4) var<storage, read_write> v_cache: array<KvPair>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
@group(0) @binding(6) var<storage, read_write> partials: array<f32>;

var<workgroup> q_scaled: array<f32, GROUP * HEAD_DIM>; // the group's rotated queries / sqrt(HEAD_DIM)
// (TILE, HEAD_DIM / 2) KvPair; pair p of key t sits at column (p + t) mod HEAD_DIM / 2, so the
// threads scoring keys t = 0, 1, .. at the same p read distinct banks.
var<workgroup> k_tile: array<KvPair, TILE * HEAD_DIM / 2u>;
var<workgroup> probs: array<f32, GROUP * TILE>; // (GROUP, TILE) scores, then exp(score - max)
var<workgroup> running_max: array<f32, GROUP>;
var<workgroup> running_sum: array<f32, GROUP>;
var<workgroup> correction: array<f32, GROUP>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let kv_head = wid.x;
  let chunk = wid.y;
  let half_dim = HEAD_DIM / 2u;
  let kv_dim = N_KV_HEADS * HEAD_DIM;
  let pos = step.pos0;
  let keys = pos + 1u;
  let chunks = decode_chunks(keys, SINGLE_PASS_KEYS, CHUNK_KEYS, MAX_CHUNKS);
  let per_chunk = (keys + chunks - 1u) / chunks;
  let key_begin = min(chunk * per_chunk, keys);
  let key_end = min(key_begin + per_chunk, keys);
  let row = (kv_head * HEAD_DIM) / 2u; // this head's first KvPair within a cache row

  rotate_queries(kv_head, pos, tid);
  if (key_begin <= pos && pos < key_end) {
    store_new_row(kv_head, pos, tid); // only the chunk that holds the new position
  }
  if (tid < GROUP) {
    running_max[tid] = NEG_BIG;
    running_sum[tid] = 0.0;
  }
  storageBarrier(); // the new row is visible to the tile loads below (same workgroup)
  workgroupBarrier();

  var acc: array<array<vec2<f32>, MAX_PAIRS_PER_THREAD>, MAX_GROUP>;
  for (var key0 = key_begin; key0 < key_end; key0 += TILE) {
    let n_keys = min(TILE, key_end - key0);
    for (var i = tid; i < n_keys * half_dim; i += WG) {
      let t = i / half_dim;
      let p = i % half_dim;
      k_tile[t * half_dim + (p + t) % half_dim] = k_cache[(key0 + t) * kv_dim / 2u + row + p];
    }
    workgroupBarrier();
    for (var i = tid; i < GROUP * TILE; i += WG) {
      let h = i / TILE;
      let t = i % TILE;
      var score = NEG_BIG;
      if (t < n_keys) {
        score = 0.0;
        var column = t % half_dim;
        for (var p = 0u; p < half_dim; p++) {
          let k2 = kv_unpack(k_tile[t * half_dim + column]);
          score += q_scaled[h * HEAD_DIM + 2u * p] * k2.x + q_scaled[h * HEAD_DIM + 2u * p + 1u] * k2.y;
          column = select(column + 1u, 0u, column + 1u == half_dim);
        }
      }
      probs[i] = score;
    }
    workgroupBarrier();
    if (tid < GROUP) {
      var tile_max = NEG_BIG;
      for (var t = 0u; t < n_keys; t++) {
        tile_max = max(tile_max, probs[tid * TILE + t]);
      }
      let new_max = max(running_max[tid], tile_max);
      correction[tid] = exp(running_max[tid] - new_max); // 0 on the first tile
      running_max[tid] = new_max;
    }
    workgroupBarrier();
    for (var i = tid; i < GROUP * TILE; i += WG) {
      probs[i] = select(0.0, exp(probs[i] - running_max[i / TILE]), i % TILE < n_keys);
    }
    workgroupBarrier();
    if (tid < GROUP) {
      var tile_sum = 0.0;
      for (var t = 0u; t < n_keys; t++) {
        tile_sum += probs[tid * TILE + t];
      }
      running_sum[tid] = running_sum[tid] * correction[tid] + tile_sum;
    }
    // Each thread owns pairs of output dimensions for every head of the group: a value row is
    // read once (coalesced across threads) and weighted for all of them.
    for (var k = 0u; k < MAX_PAIRS_PER_THREAD; k++) {
      let p = tid + k * WG;
      if (p < half_dim) {
        for (var h = 0u; h < GROUP; h++) {
          acc[h][k] *= correction[h];
        }
        for (var t = 0u; t < n_keys; t++) {
          let v2 = kv_unpack(v_cache[(key0 + t) * kv_dim / 2u + row + p]);
          for (var h = 0u; h < GROUP; h++) {
            acc[h][k] += probs[h * TILE + t] * v2;
          }
        }
      }
    }
    workgroupBarrier();
  }

  for (var k = 0u; k < MAX_PAIRS_PER_THREAD; k++) {
    let p = tid + k * WG;
    if (p < half_dim) {
      for (var h = 0u; h < GROUP; h++) {
        let head = kv_head * GROUP + h;
        if (chunks == 1u) {
          let value = acc[h][k] / running_sum[h];
          out[head * HEAD_DIM + 2u * p] = value.x;
          out[head * HEAD_DIM + 2u * p + 1u] = value.y;
        } else {
          let base = (head * MAX_CHUNKS + chunk) * (HEAD_DIM + 2u);
          partials[base + 2u * p] = acc[h][k].x;
          partials[base + 2u * p + 1u] = acc[h][k].y;
        }
      }
    }
  }
  if (chunks > 1u && tid < GROUP) {
    let base = ((kv_head * GROUP + tid) * MAX_CHUNKS + chunk) * (HEAD_DIM + 2u);
    partials[base + HEAD_DIM] = running_max[tid];
    partials[base + HEAD_DIM + 1u] = running_sum[tid];
  }
}
