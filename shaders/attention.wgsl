// attention.wgsl: causal scaled dot-product attention over the KV cache for a prefill chunk
// (decode steps use split-K: attention_decode.wgsl, then attention_merge.wgsl), with
// grouped-query heads (N_HEADS / N_KV_HEADS query heads share one k/v head).
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
// Dispatch: (N_HEADS, n_tokens). One workgroup per (head, query); keys in tiles of WG with an
// online softmax (running max and sum, rescaled per tile) so no score row is ever stored whole.
// Each thread scores one key of the tile, then owns HEAD_DIM / 2 / WG pairs of output dimensions.

override N_HEADS: u32;
override N_KV_HEADS: u32;
override HEAD_DIM: u32; // <= 2 * WG * MAX_PAIRS_PER_THREAD, multiple of 4
override WG: u32 = 64;
override WINDOW: u32 = 0; // keys a query sees with a sliding window (itself included); 0 = all
const MAX_PAIRS_PER_THREAD: u32 = 2u;

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k_cache: array<KvPair>;
@group(0) @binding(3) var<storage, read> v_cache: array<KvPair>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

var<workgroup> q_scaled: array<vec4<f32>, HEAD_DIM / 4u>;
var<workgroup> probs: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let head = wid.x;
  let t = wid.y;
  let kv_head = head / (N_HEADS / N_KV_HEADS);
  let q_dim = N_HEADS * HEAD_DIM;
  let kv_dim = N_KV_HEADS * HEAD_DIM;
  let last_key = step.pos0 + t;
  let scale = inverseSqrt(f32(HEAD_DIM));

  for (var d4 = tid; d4 < HEAD_DIM / 4u; d4 += WG) {
    let base = t * q_dim + head * HEAD_DIM + 4u * d4;
    q_scaled[d4] = vec4<f32>(q[base], q[base + 1u], q[base + 2u], q[base + 3u]) * scale;
  }
  workgroupBarrier();

  var running_max = NEG_BIG;
  var running_sum = 0.0;
  var acc: array<vec2<f32>, MAX_PAIRS_PER_THREAD>;
  for (var key0 = window_first_key(last_key, WINDOW); key0 <= last_key; key0 += WG) {
    // Score one key per thread.
    let key = key0 + tid;
    var score = NEG_BIG;
    if (key <= last_key) {
      let k_base = (key * kv_dim + kv_head * HEAD_DIM) / 2u;
      var dot_sum = 0.0;
      for (var d4 = 0u; d4 < HEAD_DIM / 4u; d4++) {
        let k4 = vec4<f32>(kv_unpack(k_cache[k_base + 2u * d4]), kv_unpack(k_cache[k_base + 2u * d4 + 1u]));
        dot_sum += dot(q_scaled[d4], k4);
      }
      score = dot_sum;
    }
    probs[tid] = score;
    workgroupBarrier();
    // Every thread derives the same tile max and sum from workgroup memory.
    let n_keys = min(WG, last_key + 1u - key0);
    var tile_max = NEG_BIG;
    for (var j = 0u; j < n_keys; j++) {
      tile_max = max(tile_max, probs[j]);
    }
    let new_max = max(running_max, tile_max);
    let correction = exp(running_max - new_max); // 0 on the first tile: running_max is NEG_BIG
    workgroupBarrier();
    if (tid < n_keys) {
      probs[tid] = exp(score - new_max);
    }
    workgroupBarrier();
    var tile_sum = 0.0;
    for (var j = 0u; j < n_keys; j++) {
      tile_sum += probs[j];
    }
    running_sum = running_sum * correction + tile_sum;
    running_max = new_max;
    for (var i = 0u; i < MAX_PAIRS_PER_THREAD; i++) {
      let p = tid + i * WG;
      if (p < HEAD_DIM / 2u) {
        var value = acc[i] * correction;
        for (var j = 0u; j < n_keys; j++) {
          value += probs[j] * kv_unpack(v_cache[((key0 + j) * kv_dim + kv_head * HEAD_DIM) / 2u + p]);
        }
        acc[i] = value;
      }
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < MAX_PAIRS_PER_THREAD; i++) {
    let p = tid + i * WG;
    if (p < HEAD_DIM / 2u) {
      let value = acc[i] / running_sum;
      out[t * q_dim + head * HEAD_DIM + 2u * p] = value.x;
      out[t * q_dim + head * HEAD_DIM + 2u * p + 1u] = value.y;
    }
  }
}
