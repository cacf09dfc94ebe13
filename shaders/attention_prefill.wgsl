// attention_prefill.wgsl: causal attention for a prefill chunk, TQ queries of one head per
// workgroup, so each key and value read from the cache serves TQ queries (attention.wgsl, one
// query per workgroup, reads the whole context once per query).
//   out[t, h] = sum_j softmax_j(q[t, h] . k[j, g] / sqrt(HEAD_DIM)) v[j, g],
//   j = first .. pos0 + t, g = h / (N_HEADS / N_KV_HEADS)
// where first = 0, or with a sliding WINDOW the window's first key (window_first_key, common.wgsl).
//
// Bindings (group 0):
//   0 step: Step (n_tokens, pos0)
//   1 q: (n_tokens, N_HEADS * HEAD_DIM) f32, rotated
//   2 k_cache: (max_seq, N_KV_HEADS * HEAD_DIM / 2) KvPair (kv_f32.wgsl or kv_f16.wgsl), rotated
//   3 v_cache: (max_seq, N_KV_HEADS * HEAD_DIM / 2) KvPair
//   4 out: (n_tokens, N_HEADS * HEAD_DIM) f32
// Dispatch: (N_HEADS, ceil(n_tokens / TQ)). Keys from the block's first query's first key, in tiles of WG with an online softmax per query
// (running max and sum, rescaled per tile): thread j scores key j of the tile against all TQ
// queries (q in workgroup memory, read by every thread alike), then owns HEAD_DIM / 2 / WG pairs
// of output dimensions for all TQ queries, reading each value pair once.
// Workgroup memory: TQ * HEAD_DIM * 4 (queries) + TQ * WG * 4 (scores) + TQ * 12 bytes.

override N_HEADS: u32;
override N_KV_HEADS: u32;
override HEAD_DIM: u32; // <= 2 * WG * MAX_PAIRS_PER_THREAD, even
override WG: u32 = 64;
override TQ: u32 = 16; // queries per workgroup, <= MAX_TQ
override WINDOW: u32 = 0; // keys a query sees with a sliding window (itself included); 0 = all
const MAX_TQ: u32 = 16u;
const MAX_PAIRS_PER_THREAD: u32 = 2u;

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> q: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> k_cache: array<KvPair>;
@group(0) @binding(3) var<storage, read> v_cache: array<KvPair>;
@group(0) @binding(4) var<storage, read_write> out: array<vec2<f32>>;

var<workgroup> q_scaled: array<vec2<f32>, TQ * HEAD_DIM / 2u>; // [query][pair]
var<workgroup> probs: array<f32, TQ * WG>;                     // [query][key in tile]
var<workgroup> running_max: array<f32, TQ>;
var<workgroup> running_sum: array<f32, TQ>;
var<workgroup> correction: array<f32, TQ>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let head = wid.x;
  let t0 = wid.y * TQ;
  let queries = min(TQ, step.n_tokens - t0);
  let kv_head = head / (N_HEADS / N_KV_HEADS);
  let half_dim = HEAD_DIM / 2u;
  let q_pairs = N_HEADS * half_dim;
  let kv_pairs = N_KV_HEADS * half_dim;
  let last_key = step.pos0 + t0 + queries - 1u; // the last query's
  let scale = inverseSqrt(f32(HEAD_DIM));

  for (var i = tid; i < TQ * half_dim; i += WG) {
    let t = i / half_dim;
    var value = vec2<f32>(0.0);
    if (t < queries) {
      value = q[(t0 + t) * q_pairs + head * half_dim + i % half_dim] * scale;
    }
    q_scaled[i] = value;
  }
  if (tid < TQ) {
    running_max[tid] = NEG_BIG;
    running_sum[tid] = 0.0;
  }
  workgroupBarrier();

  var acc: array<array<vec2<f32>, MAX_PAIRS_PER_THREAD>, MAX_TQ>;
  for (var key0 = window_first_key(step.pos0 + t0, WINDOW); key0 <= last_key; key0 += WG) {
    // Scores of key key0 + tid against every query; masked past each query's own position.
    let key = key0 + tid;
    var scores = array<f32, MAX_TQ>(); // zeroed each tile, explicitly
    if (key <= last_key) {
      let k_base = (key * N_KV_HEADS * HEAD_DIM + kv_head * HEAD_DIM) / 2u;
      for (var d = 0u; d < half_dim; d++) {
        let k2 = kv_unpack(k_cache[k_base + d]);
        for (var t = 0u; t < TQ; t++) {
          scores[t] += dot(q_scaled[t * half_dim + d], k2);
        }
      }
    }
    for (var t = 0u; t < TQ; t++) {
      let position = step.pos0 + t0 + t;
      let visible = t < queries && key <= position && key >= window_first_key(position, WINDOW);
      probs[t * WG + tid] = select(NEG_BIG, scores[t], visible);
    }
    workgroupBarrier();
    let n_keys = min(WG, last_key + 1u - key0);
    if (tid < TQ) {
      var tile_max = NEG_BIG;
      for (var j = 0u; j < n_keys; j++) {
        tile_max = max(tile_max, probs[tid * WG + j]);
      }
      let new_max = max(running_max[tid], tile_max);
      correction[tid] = exp(running_max[tid] - new_max); // 0 on a query's first tile
      running_max[tid] = new_max;
    }
    workgroupBarrier();
    for (var t = 0u; t < TQ; t++) {
      let s = probs[t * WG + tid];
      // A masked key (NEG_BIG) weighs 0, also where the whole tile is masked for a query.
      probs[t * WG + tid] = select(0.0, exp(s - running_max[t]), tid < n_keys && s > NEG_BIG);
    }
    workgroupBarrier();
    if (tid < TQ) {
      var tile_sum = 0.0;
      for (var j = 0u; j < n_keys; j++) {
        tile_sum += probs[tid * WG + j];
      }
      running_sum[tid] = running_sum[tid] * correction[tid] + tile_sum;
    }
    for (var i = 0u; i < MAX_PAIRS_PER_THREAD; i++) {
      let p = tid + i * WG;
      if (p < half_dim) {
        for (var t = 0u; t < TQ; t++) {
          acc[t][i] *= correction[t];
        }
        for (var j = 0u; j < n_keys; j++) {
          let v2 = kv_unpack(v_cache[(key0 + j) * kv_pairs + kv_head * half_dim + p]);
          for (var t = 0u; t < TQ; t++) {
            acc[t][i] += probs[t * WG + j] * v2;
          }
        }
      }
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < MAX_PAIRS_PER_THREAD; i++) {
    let p = tid + i * WG;
    if (p < half_dim) {
      for (var t = 0u; t < queries; t++) {
        out[(t0 + t) * q_pairs + head * half_dim + p] = acc[t][i] / running_sum[t];
      }
    }
  }
}
