// attention_decode.wgsl: the first half of split-K ("flash-decoding") attention for one query
// token: each workgroup attends one head to one chunk of CHUNK keys and writes that chunk's
// softmax partials; attention_merge.wgsl combines the chunks. Splitting the keys gives the GPU
// N_HEADS * chunks workgroups instead of N_HEADS, which a long context needs to fill it.
//   for chunk c: m_c = max_j s_j, l_c = sum_j exp(s_j - m_c), acc_c = sum_j exp(s_j - m_c) v_j,
//   s_j = q . k_j / sqrt(HEAD_DIM), j in the chunk and j <= pos0; chunks start at key 0, or with
//   a sliding WINDOW at the window's first key (window_first_key, common.wgsl)
//
// Bindings (group 0):
//   0 step: Step (n_tokens = 1, pos0 = the query's position)
//   1 q: (N_HEADS * HEAD_DIM) f32, rotated
//   2 k_cache: (max_seq, N_KV_HEADS * HEAD_DIM / 2) KvPair (kv_f32.wgsl or kv_f16.wgsl), rotated
//   3 v_cache: (max_seq, N_KV_HEADS * HEAD_DIM / 2) KvPair
//   4 partials: (N_HEADS, MAX_CHUNKS, HEAD_DIM + 2) f32: acc_c, then m_c, l_c
// Dispatch: (N_HEADS, ceil(keys / CHUNK)), keys = pos0 + 1 or at most WINDOW. CHUNK = WG: one key per thread for the score,
// then each thread owns HEAD_DIM / 2 / WG pairs of output dimensions of the weighted sum.

override N_HEADS: u32;
override N_KV_HEADS: u32;
override HEAD_DIM: u32; // <= 2 * WG * MAX_PAIRS_PER_THREAD, multiple of 4
override MAX_CHUNKS: u32;
override WG: u32 = 64;
override WINDOW: u32 = 0; // keys a query sees with a sliding window (itself included); 0 = all
const MAX_PAIRS_PER_THREAD: u32 = 2u;

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> k_cache: array<KvPair>;
@group(0) @binding(3) var<storage, read> v_cache: array<KvPair>;
@group(0) @binding(4) var<storage, read_write> partials: array<f32>;

var<workgroup> q_scaled: array<vec4<f32>, HEAD_DIM / 4u>;
var<workgroup> probs: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let head = wid.x;
  let chunk = wid.y;
  let kv_head = head / (N_HEADS / N_KV_HEADS);
  let kv_dim = N_KV_HEADS * HEAD_DIM;
  let key0 = window_first_key(step.pos0, WINDOW) + chunk * WG;
  let n_keys = min(WG, step.pos0 + 1u - key0);
  let scale = inverseSqrt(f32(HEAD_DIM));
  for (var d4 = tid; d4 < HEAD_DIM / 4u; d4 += WG) {
    q_scaled[d4] = q[head * HEAD_DIM / 4u + d4] * scale;
  }
  workgroupBarrier();

  var score = NEG_BIG;
  if (tid < n_keys) {
    let k_base = ((key0 + tid) * kv_dim + kv_head * HEAD_DIM) / 2u;
    var dot_sum = 0.0;
    for (var d4 = 0u; d4 < HEAD_DIM / 4u; d4++) {
      let k4 = vec4<f32>(kv_unpack(k_cache[k_base + 2u * d4]), kv_unpack(k_cache[k_base + 2u * d4 + 1u]));
      dot_sum += dot(q_scaled[d4], k4);
    }
    score = dot_sum;
  }
  probs[tid] = score;
  workgroupBarrier();
  var chunk_max = NEG_BIG;
  for (var j = 0u; j < n_keys; j++) {
    chunk_max = max(chunk_max, probs[j]);
  }
  workgroupBarrier();
  if (tid < n_keys) {
    probs[tid] = exp(score - chunk_max);
  }
  workgroupBarrier();

  let out_base = (head * MAX_CHUNKS + chunk) * (HEAD_DIM + 2u);
  for (var i = 0u; i < MAX_PAIRS_PER_THREAD; i++) {
    let p = tid + i * WG;
    if (p < HEAD_DIM / 2u) {
      var acc = vec2<f32>(0.0);
      for (var j = 0u; j < n_keys; j++) {
        acc += probs[j] * kv_unpack(v_cache[((key0 + j) * kv_dim + kv_head * HEAD_DIM) / 2u + p]);
      }
      partials[out_base + 2u * p] = acc.x;
      partials[out_base + 2u * p + 1u] = acc.y;
    }
  }
  if (tid == 0u) {
    var chunk_sum = 0.0;
    for (var j = 0u; j < n_keys; j++) {
      chunk_sum += probs[j];
    }
    partials[out_base + HEAD_DIM] = chunk_max;
    partials[out_base + HEAD_DIM + 1u] = chunk_sum;
  }
}
