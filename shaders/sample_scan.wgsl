// sample_scan.wgsl: the wide half of sampling. The vocabulary is cut in slices of SLICE ids, one
// workgroup each, so every pass over the logits runs on the whole GPU instead of one workgroup
// (a 152k vocabulary is 17 passes for top-k and top-p). sample_pick.wgsl, one workgroup, reduces
// what the slices wrote after each pass and keeps the sampler's state. Processors in
// transformers' order: repetition penalty, temperature, top-k, top-p, then a draw (see
// sample_pick.wgsl for the selection, sample_draw.wgsl for the draw).
//   PHASE 0: work[i] = processed logit; per slice its largest (first index on ties)
//   PHASE 1: one 4-bit radix round of the current select (top-k by counts, top-p by mass): per
//            slice a histogram of the next digit of the keys still in the running
//   PHASE 2: per slice the probability mass kept (keys >= state.floor), for the draw
//
// Bindings (group 0):
//   0 step: Step (sampler settings, vocab_limit)
//   1 logits: (VOCAB) f32 (PHASE 0 reads it)
//   2 seen: (ceil(VOCAB / 32)) u32 bitset of ids in the context (repetition penalty)
//   3 work: (VOCAB) f32, the processed logits (PHASE 0 writes, 1 and 2 read)
//   4 state: (STATE_WORDS) u32, sample_pick.wgsl's (see there)
//   5 partials: (SLICES, 2 + DIGITS) u32: PHASE 0 [max f32, argmax]; PHASE 1 [_, _, 16 counts or
//      masses f32]; PHASE 2 [mass f32, _]
// Dispatch: SLICES = ceil(VOCAB / SLICE) workgroups of WG threads.

override VOCAB: u32;
override SLICE: u32 = 2048;
override WG: u32 = 128; // a power of two
override PHASE: u32;
const DIGITS: u32 = 16u;
// reduce_workgroup.wgsl's reduce_partials() sums the DIGITS counts (or masses) of a PHASE 1 round.
const PARTIALS: u32 = DIGITS;
const MAX_PARTIALS: u32 = DIGITS;

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> seen: array<u32>;
@group(0) @binding(3) var<storage, read_write> work: array<f32>;
@group(0) @binding(4) var<storage, read> state: array<u32>;
@group(0) @binding(5) var<storage, read_write> partials: array<u32>;

var<workgroup> shared_select: u32;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let n = min(VOCAB, step.vocab_limit);
  let slice = wid.x;
  let begin = min(slice * SLICE, n);
  let end = min(begin + SLICE, n);
  let out = slice * (2u + DIGITS);
  let greedy = sampling_greedy(step);

  if (PHASE == 0u) {
    var best = NEG_BIG;
    var best_index = 0xffffffffu;
    for (var i = begin + tid; i < end; i += WG) {
      var l = logits[i];
      if (step.repetition_penalty != 1.0 && ((seen[i >> 5u] >> (i & 31u)) & 1u) != 0u) {
        l = select(l / step.repetition_penalty, l * step.repetition_penalty, l < 0.0);
      }
      if (!greedy) {
        l = l / step.temperature;
      }
      work[i] = l;
      if (l > best) {
        best = l;
        best_index = i;
      }
    }
    red_value[tid] = best;
    red_index[tid] = best_index;
    reduce_best(tid);
    if (tid == 0u) {
      partials[out] = bitcast<u32>(red_value[0]);
      partials[out + 1u] = red_index[0];
    }
    return;
  }

  // Read once and shared, so the early return below keeps the barriers in uniform control flow.
  if (tid == 0u) {
    shared_select = state[SAMPLE_SELECT];
  }
  let select_kind = workgroupUniformLoad(&shared_select);
  if (PHASE == 1u && select_kind == SELECT_DONE) {
    return; // a round past the selects this step needs (or greedy)
  }
  if (PHASE == 2u && greedy) {
    return;
  }
  let max_logit = bitcast<f32>(state[SAMPLE_MAX]);
  let floor = state[SAMPLE_FLOOR];

  if (PHASE == 2u) {
    var mass = 0.0;
    for (var i = begin + tid; i < end; i += WG) {
      if (order_key(work[i]) >= floor) {
        mass += exp(work[i] - max_logit);
      }
    }
    red_value[tid] = mass;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
      if (tid < stride) {
        red_value[tid] += red_value[tid + stride];
      }
      workgroupBarrier();
    }
    if (tid == 0u) {
      partials[out] = bitcast<u32>(red_value[0]);
    }
    return;
  }

  // PHASE 1: keys in the running are >= floor and share the digits decided so far.
  let by_mass = select_kind == SELECT_MASS;
  let round = state[SAMPLE_ROUND];
  let shift = 28u - 4u * round;
  let high_mask = select(~((1u << (shift + 4u)) - 1u), 0u, round == 0u);
  let prefix = state[SAMPLE_PREFIX] & high_mask;
  var local = array<f32, DIGITS>(); // explicitly zeroed
  for (var i = begin + tid; i < end; i += WG) {
    let key = order_key(work[i]);
    if (key >= floor && (key & high_mask) == prefix) {
      local[(key >> shift) & 15u] += select(1.0, exp(work[i] - max_logit), by_mass);
    }
  }
  let total = reduce_partials(local, tid); // digit tid's sum on threads tid < DIGITS
  if (tid < DIGITS) {
    partials[out + 2u + tid] = bitcast<u32>(total);
  }
}
