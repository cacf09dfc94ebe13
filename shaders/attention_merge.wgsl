// attention_merge.wgsl: the second half of split-K attention: combines the per-chunk softmax
// partials of attention_decode.wgsl into the attention output (a step whose keys fit one chunk
// skips it: attention_decode.wgsl's DIRECT writes the output itself).
//   M = max_c m_c,  L = sum_c l_c exp(m_c - M),  out = sum_c acc_c exp(m_c - M) / L
//
// Bindings (group 0):
//   0 step: Step (pos0: the chunks in use are ceil(keys / CHUNK_KEYS), as the decode kernel's
//      dispatch; keys = pos0 + 1, or at most WINDOW)
//   1 partials: (N_HEADS, MAX_CHUNKS, HEAD_DIM + 2) f32
//   2 out: (N_HEADS * HEAD_DIM) f32
// Dispatch: N_HEADS workgroups; a thread per output dimension (looping when HEAD_DIM > WG).

override N_HEADS: u32;
override HEAD_DIM: u32;
override MAX_CHUNKS: u32;
override CHUNK_KEYS: u32;
override WG: u32 = 64;
override WINDOW: u32 = 0; // as the decode kernel's: 0 = no sliding window

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let head = wid.x;
  let keys = step.pos0 + 1u - window_first_key(step.pos0, WINDOW);
  let chunks = min(MAX_CHUNKS, (keys + CHUNK_KEYS - 1u) / CHUNK_KEYS);
  let stride = HEAD_DIM + 2u;
  let base = head * MAX_CHUNKS * stride;
  var global_max = NEG_BIG;
  for (var c = 0u; c < chunks; c++) {
    global_max = max(global_max, partials[base + c * stride + HEAD_DIM]);
  }
  var total = 0.0;
  for (var c = 0u; c < chunks; c++) {
    total += partials[base + c * stride + HEAD_DIM + 1u] * exp(partials[base + c * stride + HEAD_DIM] - global_max);
  }
  for (var d = tid; d < HEAD_DIM; d += WG) {
    var acc = 0.0;
    for (var c = 0u; c < chunks; c++) {
      acc += partials[base + c * stride + d] * exp(partials[base + c * stride + HEAD_DIM] - global_max);
    }
    out[head * HEAD_DIM + d] = acc / total;
  }
}
