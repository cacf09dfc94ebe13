// common.wgsl: declarations every kernel may use. Prepended to each kernel by src/gpu/shaders.ts.
//
// Step is the one uniform that changes between dispatches of a forward pass: how many rows this
// chunk holds and where it starts in the sequence, plus the sampler's settings. Everything shaped
// by the model (dimensions, eps, workgroup sizes) is an `override` constant of the kernel instead.

struct Step {
  n_tokens: u32,           // rows in this chunk (prefill) or 1 (decode)
  pos0: u32,               // sequence position of row 0; keys 0 .. pos0 + row are visible
  seed: u32,               // sampler seed
  top_k: u32,              // 0 = off
  temperature: f32,        // 0 = greedy
  top_p: f32,              // 1 = off
  repetition_penalty: f32, // 1 = off
  vocab_limit: u32,        // sample only ids below this (the tokenizer's vocab may be smaller than lm_head)
}

// Eight consecutive weights of one row, dequantised to f32.
struct W8 {
  lo: vec4<f32>,
  hi: vec4<f32>,
}

// A finite stand-in for -infinity: WGSL lets compilers assume no infinities (WGSL spec 15.7.1),
// so masked scores use the lowest finite f32 and are never fed to exp() unguarded.
const NEG_BIG: f32 = -0x1.fffffep+127f;

fn bf16_to_f32(bits: u32) -> f32 {
  return bitcast<f32>((bits & 0xffffu) << 16u);
}

fn unpack_f16x8(p: vec4<u32>) -> W8 {
  return W8(
    vec4<f32>(unpack2x16float(p.x), unpack2x16float(p.y)),
    vec4<f32>(unpack2x16float(p.z), unpack2x16float(p.w)),
  );
}

// silu(g) = g * sigmoid(g), the LLaMA MLP's gate activation; exp's argument is clamped so it never
// overflows to infinity (silu of a large negative gate is then -0, not NaN).
fn silu(g: f32) -> f32 {
  return g / (1.0 + exp(min(-g, 80.0)));
}

// RoPE as transformers' apply_rotary_pos_emb with rotate_half, on two adjacent elements j, j + 1
// of a head (a) and their partners j + HEAD_DIM / 2, j + 1 + HEAD_DIM / 2 (b); cs0 and cs1 are
// the rope table's (cos, sin) of j and j + 1 at the position:
//   a' = a cos - b sin,  b' = b cos + a sin
struct RopePairs {
  a: vec2<f32>,
  b: vec2<f32>,
}

fn rope_pairs(a: vec2<f32>, b: vec2<f32>, cs0: vec2<f32>, cs1: vec2<f32>) -> RopePairs {
  let c = vec2<f32>(cs0.x, cs1.x);
  let s = vec2<f32>(cs0.y, cs1.y);
  return RopePairs(a * c - b * s, b * c + a * s);
}

// Sliding-window attention (Mistral, Qwen's windowed layers): a query at position last_key sees
// keys last_key - window + 1 .. last_key (transformers' sliding_window_overlay: kv > q - window);
// window 0 means every key from 0. Returns the first key it sees.
fn window_first_key(last_key: u32, window: u32) -> u32 {
  if (window == 0u || last_key < window) {
    return 0u;
  }
  return last_key + 1u - window;
}

// Workgroup index flattened over a 2D grid: dispatches past 65535 workgroups spill into y.
fn flat_workgroup(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.y * nwg.x + wid.x;
}
