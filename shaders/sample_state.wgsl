// sample_state.wgsl: what sample_scan.wgsl, sample_pick.wgsl and sample_draw.wgsl share: the
// sampler's state words (a small storage buffer sample_pick.wgsl writes between the scans) and the
// order-preserving keys the radix select works on, and the (value, id) argmax of a workgroup.
// Composed after common.wgsl, before each kernel.

const SAMPLE_MAX: u32 = 0u; // the largest processed logit, f32 bits
const SAMPLE_ARGMAX: u32 = 1u; // its id (the first on ties)
const SAMPLE_SELECT: u32 = 2u; // what the radix rounds select now: SELECT_COUNT (top-k), SELECT_MASS (top-p), SELECT_DONE
const SAMPLE_ROUND: u32 = 3u; // the round of that select, 0 .. 7 (4 bits a round, high digit first)
const SAMPLE_PREFIX: u32 = 4u; // the digits decided so far
const SAMPLE_ABOVE: u32 = 5u; // weight of the keys above the prefix's bucket, f32 bits
const SAMPLE_GOAL: u32 = 6u; // weight the select must reach, f32 bits
const SAMPLE_FLOOR: u32 = 7u; // keys >= floor are kept
const STATE_WORDS: u32 = 8u;

const SELECT_COUNT: u32 = 0u;
const SELECT_MASS: u32 = 1u;
const SELECT_DONE: u32 = 2u;

// Larger floats have larger keys (negative ones flipped), so a threshold on keys is one on values.
fn order_key(v: f32) -> u32 {
  let bits = bitcast<u32>(v);
  return select(bits | 0x80000000u, ~bits, (bits & 0x80000000u) != 0u);
}

// Temperature 0 (or top-k 1) takes the argmax, as transformers' greedy search.
fn sampling_greedy(s: Step) -> bool {
  return s.temperature <= 0.0 || s.top_k == 1u;
}

// Workgroup scratch of the sampler's kernels (each has its own WG, a power of two).
var<workgroup> red_value: array<f32, WG>;
var<workgroup> red_index: array<u32, WG>;

// Reduces (red_value, red_index) to slot 0: the largest value, the smaller id on ties.
fn reduce_best(tid: u32) {
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (tid < stride) {
      let other = red_value[tid + stride];
      let other_index = red_index[tid + stride];
      if (other > red_value[tid] || (other == red_value[tid] && other_index < red_index[tid])) {
        red_value[tid] = other;
        red_index[tid] = other_index;
      }
    }
    workgroupBarrier();
  }
}
