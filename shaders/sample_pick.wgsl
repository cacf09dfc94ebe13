// sample_pick.wgsl: the narrow half of sampling, one workgroup: after a sample_scan.wgsl pass it
// reduces the slices' partials and moves the sampler's state on (sample_state.wgsl).
// Temperature 0 is greedy (argmax, first index on ties, as torch.argmax). top-k and top-p need
// the k-th largest logit and the smallest set holding mass top_p: both found exactly, without
// sorting, by a radix select on the logits' order-preserving keys, 8 rounds of 4 bits, each a
// histogram (of counts for top-k, of probability mass for top-p) that the scans build slice by
// slice. sample_draw.wgsl then draws from the kept ids.
//   PHASE 0: the largest logit and its id; greedy: the answer. Starts the first select.
//   PHASE 1: one radix round: the digit whose bucket holds the goal; after round 7 the floor,
//            and the next select (top-p after top-k) or done.
//   PHASE 2: greedy alone, over the whole vocabulary in this one workgroup (small vocabularies:
//            one dispatch instead of two).
//
// Bindings (group 0):
//   0 step: Step (sampler settings; the sampled row's position is pos0 + n_tokens - 1)
//   1 logits: (VOCAB) f32 (PHASE 2)
//   2 seen: (ceil(VOCAB / 32)) u32 bitset of ids in the context; the chosen id is added
//   3 work: (VOCAB) f32, the processed logits (unused here; the layout is sample_draw.wgsl's)
//   4 state: (STATE_WORDS) u32
//   5 partials: (SLICES, 2 + DIGITS) u32, as sample_scan.wgsl writes them
//   6 ids: (>= 1) u32; ids[0] = the chosen id (the next decode step's input)
// Dispatch: 1 workgroup of WG threads.

override VOCAB: u32;
override SLICE: u32 = 2048;
override WG: u32 = 256; // a power of two, >= DIGITS
override PHASE: u32;
const DIGITS: u32 = 16u;

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> seen: array<u32>;
@group(0) @binding(3) var<storage, read> work: array<f32>;
@group(0) @binding(4) var<storage, read_write> state: array<u32>;
@group(0) @binding(5) var<storage, read> partials: array<u32>;
@group(0) @binding(6) var<storage, read_write> ids: array<u32>;

var<workgroup> digits: array<f32, DIGITS>;
var<workgroup> shared_select: u32;

fn choose(id: u32) {
  ids[0] = id;
  seen[id >> 5u] |= 1u << (id & 31u);
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32) {
  let n = min(VOCAB, step.vocab_limit);
  let slices = (VOCAB + SLICE - 1u) / SLICE;
  let greedy = sampling_greedy(step);

  if (PHASE == 2u) {
    var best = NEG_BIG;
    var best_index = 0xffffffffu;
    for (var i = tid; i < n; i += WG) {
      var l = logits[i];
      if (step.repetition_penalty != 1.0 && ((seen[i >> 5u] >> (i & 31u)) & 1u) != 0u) {
        l = select(l / step.repetition_penalty, l * step.repetition_penalty, l < 0.0);
      }
      if (l > best) {
        best = l;
        best_index = i;
      }
    }
    red_value[tid] = best;
    red_index[tid] = best_index;
    reduce_best(tid);
    if (tid == 0u) {
      choose(red_index[0]);
    }
    return;
  }

  if (PHASE == 0u) {
    var best = NEG_BIG;
    var best_index = 0xffffffffu;
    for (var s = tid; s < slices; s += WG) {
      let v = bitcast<f32>(partials[s * (2u + DIGITS)]);
      let index = partials[s * (2u + DIGITS) + 1u];
      if (v > best || (v == best && index < best_index)) {
        best = v;
        best_index = index;
      }
    }
    red_value[tid] = best;
    red_index[tid] = best_index;
    reduce_best(tid);
    if (tid == 0u) {
      state[SAMPLE_MAX] = bitcast<u32>(red_value[0]);
      state[SAMPLE_ARGMAX] = red_index[0];
      state[SAMPLE_ROUND] = 0u;
      state[SAMPLE_PREFIX] = 0u;
      state[SAMPLE_FLOOR] = 0u;
      if (greedy) {
        state[SAMPLE_SELECT] = SELECT_DONE;
        choose(red_index[0]);
      } else if (step.top_k > 0u && step.top_k < n) {
        state[SAMPLE_SELECT] = SELECT_COUNT;
      } else if (step.top_p < 1.0) {
        state[SAMPLE_SELECT] = SELECT_MASS;
      } else {
        state[SAMPLE_SELECT] = SELECT_DONE;
      }
    }
    return;
  }

  // PHASE 1. Read once and shared, so the early return keeps the barrier below in uniform
  // control flow.
  if (tid == 0u) {
    shared_select = state[SAMPLE_SELECT];
  }
  let select_kind = workgroupUniformLoad(&shared_select);
  if (select_kind == SELECT_DONE) {
    return;
  }
  // Each digit's weight over all slices, summed in slice order.
  if (tid < DIGITS) {
    var total = 0.0;
    for (var s = 0u; s < slices; s++) {
      total += bitcast<f32>(partials[s * (2u + DIGITS) + 2u + tid]);
    }
    digits[tid] = total;
  }
  workgroupBarrier();
  if (tid == 0u) {
    let round = state[SAMPLE_ROUND];
    var prefix = state[SAMPLE_PREFIX];
    var above = bitcast<f32>(state[SAMPLE_ABOVE]);
    var goal = bitcast<f32>(state[SAMPLE_GOAL]);
    if (round == 0u) {
      prefix = 0u;
      above = 0.0;
      if (select_kind == SELECT_COUNT) {
        goal = f32(step.top_k);
      } else {
        // Round 0 counts every kept key: its digits sum to the mass the floor keeps.
        var kept = 0.0;
        for (var d = 0u; d < DIGITS; d++) {
          kept += digits[d];
        }
        goal = step.top_p * kept;
      }
    }
    let shift = 28u - 4u * round;
    var digit = 0u; // if rounding leaves the goal unreached, keep the whole bucket range
    for (var d = DIGITS; d > 0u; d--) {
      let weight = digits[d - 1u];
      if (above + weight >= goal) {
        digit = d - 1u;
        break;
      }
      above += weight;
    }
    prefix = prefix | (digit << shift);
    state[SAMPLE_PREFIX] = prefix;
    state[SAMPLE_ABOVE] = bitcast<u32>(above);
    state[SAMPLE_GOAL] = bitcast<u32>(goal);
    if (round < 7u) {
      state[SAMPLE_ROUND] = round + 1u;
    } else {
      state[SAMPLE_FLOOR] = prefix;
      state[SAMPLE_ROUND] = 0u;
      state[SAMPLE_SELECT] = select(SELECT_DONE, SELECT_MASS, select_kind == SELECT_COUNT && step.top_p < 1.0);
    }
  }
}
