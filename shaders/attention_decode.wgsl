// attention_decode.wgsl: split-K ("flash-decoding") attention for one query token: each
// workgroup attends one head to one chunk of WG keys. Splitting the keys gives the GPU
// N_HEADS * chunks workgroups instead of N_HEADS, which a long context needs to fill it.
//   chunk c: m_c = max_j s_j, l_c = sum_j exp(s_j - m_c), acc_c = sum_j exp(s_j - m_c) v_j,
//   s_j = q . k_j / sqrt(HEAD_DIM), j in the chunk and j <= pos0; chunks start at key 0, or with
//   a sliding WINDOW at the window's first key (window_first_key, common.wgsl)
// Past one chunk it writes these partials and attention_merge.wgsl combines them; with DIRECT
// (the host's choice when the keys fit one chunk) it writes acc_0 / l_0 to `out` itself, and
// the step needs no merge dispatch.
// With FUSED it also does rope_kv.wgsl's work for the new token, so a decode step needs no RoPE
// dispatch: it rotates this head's query from the qkv GEMV's raw output, and the chunk holding
// position pos0 takes the new key and value from qkv (rotated, rounded as the cache stores them)
// rather than from the cache, while the first query head of each KV group writes them to the
// cache for the steps after. No workgroup of this dispatch reads cache row pos0.
//
// Composed after a KV accessor (kv_f32.wgsl or kv_f16.wgsl) and decode_rope.wgsl (the FUSED
// work: rotate_new_token).
// Bindings (group 0):
//   0 step: Step (n_tokens = 1, pos0 = the query's position)
//   1 src: FUSED: (Q_DIM + 2 KV_DIM) f32, q, k, v unrotated (the qkv GEMV's output);
//      else (Q_DIM) f32, q rotated (rope_kv.wgsl ran)
//   2 rope: (max_pos, HEAD_DIM / 2) vec2<f32> (cos, sin); read only with FUSED
//   3 k_cache: (max_seq, KV_DIM / 2) KvPair (kv_f32.wgsl or kv_f16.wgsl), rotated; row pos0
//      written with FUSED
//   4 v_cache: (max_seq, KV_DIM / 2) KvPair; row pos0 written with FUSED
//   5 partials: (N_HEADS, MAX_CHUNKS, HEAD_DIM + 2) f32: acc_c, then m_c, l_c (unless DIRECT)
//   6 out: (Q_DIM) f32 (DIRECT only)
// Dispatch: (N_HEADS, ceil(keys / WG)), keys = pos0 + 1 or at most WINDOW. One key per thread
// for the score, then each thread owns HEAD_DIM / 2 / WG pairs of output dimensions of the sum.

override N_HEADS: u32;
override N_KV_HEADS: u32;
override HEAD_DIM: u32; // <= 2 * WG * MAX_PAIRS_PER_THREAD, multiple of 4
override MAX_CHUNKS: u32;
override FUSED: bool = false;
override DIRECT: bool = false;
override WG: u32 = 64;
override WINDOW: u32 = 0; // keys a query sees with a sliding window (itself included); 0 = all
const MAX_PAIRS_PER_THREAD: u32 = 2u;

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> rope: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read_write> k_cache: array<KvPair>;
@group(0) @binding(4) var<storage, read_write> v_cache: array<KvPair>;
@group(0) @binding(5) var<storage, read_write> partials: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;

var<workgroup> q_scaled: array<f32, HEAD_DIM>;
var<workgroup> k_new: array<f32, HEAD_DIM>; // FUSED, in the chunk holding pos0
var<workgroup> v_new: array<vec2<f32>, HEAD_DIM / 2u>;
var<workgroup> probs: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let head = wid.x;
  let chunk = wid.y;
  let kv_head = head / (N_HEADS / N_KV_HEADS);
  let kv_dim = N_KV_HEADS * HEAD_DIM;
  let pos = step.pos0;
  let key0 = window_first_key(pos, WINDOW) + chunk * WG;
  let n_keys = min(WG, pos + 1u - key0);
  let holds_new = FUSED && key0 + n_keys == pos + 1u;
  if (FUSED) {
    rotate_new_token(head, kv_head, pos, holds_new, tid);
  } else {
    let scale = inverseSqrt(f32(HEAD_DIM));
    for (var d = tid; d < HEAD_DIM; d += WG) {
      q_scaled[d] = src[head * HEAD_DIM + d] * scale;
    }
  }
  workgroupBarrier();

  var score = NEG_BIG;
  if (tid < n_keys) {
    var dot_sum = 0.0;
    if (holds_new && key0 + tid == pos) {
      for (var d = 0u; d < HEAD_DIM; d++) {
        dot_sum += q_scaled[d] * k_new[d];
      }
    } else {
      let k_base = ((key0 + tid) * kv_dim + kv_head * HEAD_DIM) / 2u;
      for (var d2 = 0u; d2 < HEAD_DIM / 2u; d2++) {
        let k2 = kv_unpack(k_cache[k_base + d2]);
        dot_sum += q_scaled[2u * d2] * k2.x + q_scaled[2u * d2 + 1u] * k2.y;
      }
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
  var chunk_sum = 0.0;
  for (var j = 0u; j < n_keys; j++) {
    chunk_sum += probs[j];
  }

  let out_base = (head * MAX_CHUNKS + chunk) * (HEAD_DIM + 2u);
  for (var i = 0u; i < MAX_PAIRS_PER_THREAD; i++) {
    let p = tid + i * WG;
    if (p < HEAD_DIM / 2u) {
      var acc = vec2<f32>(0.0);
      for (var j = 0u; j < n_keys; j++) {
        if (holds_new && key0 + j == pos) {
          acc += probs[j] * v_new[p];
        } else {
          acc += probs[j] * kv_unpack(v_cache[((key0 + j) * kv_dim + kv_head * HEAD_DIM) / 2u + p]);
        }
      }
      if (DIRECT) {
        out[head * HEAD_DIM + 2u * p] = acc.x / chunk_sum;
        out[head * HEAD_DIM + 2u * p + 1u] = acc.y / chunk_sum;
      } else {
        partials[out_base + 2u * p] = acc.x;
        partials[out_base + 2u * p + 1u] = acc.y;
      }
    }
  }
  if (!DIRECT && tid == 0u) {
    partials[out_base + HEAD_DIM] = chunk_max;
    partials[out_base + HEAD_DIM + 1u] = chunk_sum;
  }
}
