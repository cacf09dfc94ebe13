// sample.wgsl: picks the next token on the GPU so a decode step reads back one u32, not a
// vocabulary of logits. Processors in transformers' order: repetition penalty, then temperature,
// top-k, top-p, then a draw from the renormalised distribution; temperature 0 is greedy
// (argmax, first index on ties, as torch.argmax).
//
// top-k and top-p need the k-th largest logit and the smallest set holding mass top_p. Both are
// found exactly without sorting by a radix select on the logits' order-preserving u32 keys:
// 8 rounds of 4 bits, each a histogram (of counts for top-k, of probability mass for top-p).
//
// Bindings (group 0):
//   0 step: Step (sampler settings; the sampled row's position is pos0 + n_tokens - 1)
//   1 logits: (VOCAB) f32
//   2 seen: (ceil(VOCAB / 32)) u32 bitset of ids in the context, for the repetition penalty;
//           the chosen id is added
//   3 work: (VOCAB) f32 scratch: the processed logits
//   4 ids: (>= 1) u32; ids[0] = the chosen id (the next decode step's input)
// Dispatch: 1 workgroup of WG threads.

override VOCAB: u32;
override WG: u32 = 256;
const DIGITS: u32 = 16u;

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> seen: array<u32>;
@group(0) @binding(3) var<storage, read_write> work: array<f32>;
@group(0) @binding(4) var<storage, read_write> ids: array<u32>;

var<workgroup> red_value: array<f32, WG>;
var<workgroup> red_index: array<u32, WG>;
var<workgroup> histogram: array<f32, DIGITS * WG>;
var<workgroup> chosen: u32;
var<workgroup> shared_prefix: u32;
var<workgroup> shared_above: f32;

fn order_key(v: f32) -> u32 {
  let bits = bitcast<u32>(v);
  return select(bits | 0x80000000u, ~bits, (bits & 0x80000000u) != 0u);
}

fn pcg_hash(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

fn reduce_sum(tid: u32, value: f32) -> f32 {
  red_value[tid] = value;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (tid < stride) {
      red_value[tid] += red_value[tid + stride];
    }
    workgroupBarrier();
  }
  let total = workgroupUniformLoad(&red_value[0]);
  workgroupBarrier(); // everyone has read red_value[0] before it is reused
  return total;
}

// The largest key t with weight(keys >= t, keys >= floor) >= goal, where an element weighs
// 1 (by_mass false) or exp(work - max_logit).
fn radix_select(tid: u32, n: u32, by_mass: bool, goal: f32, floor: u32, max_logit: f32) -> u32 {
  var prefix = 0u;
  var above = 0.0;
  for (var round = 0u; round < 8u; round++) {
    let shift = 28u - 4u * round;
    let high_mask = select(~((1u << (shift + 4u)) - 1u), 0u, round == 0u);
    var local = array<f32, DIGITS>(); // explicitly zeroed every round
    for (var i = tid; i < n; i += WG) {
      let key = order_key(work[i]);
      if (key >= floor && (key & high_mask) == prefix) {
        local[(key >> shift) & 15u] += select(1.0, exp(work[i] - max_logit), by_mass);
      }
    }
    for (var d = 0u; d < DIGITS; d++) {
      histogram[d * WG + tid] = local[d];
    }
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
      if (tid < stride) {
        for (var d = 0u; d < DIGITS; d++) {
          histogram[d * WG + tid] += histogram[d * WG + tid + stride];
        }
      }
      workgroupBarrier();
    }
    if (tid == 0u) {
      var digit = 0u; // if rounding leaves goal unreached, keep the whole bucket range
      for (var d = DIGITS; d > 0u; d--) {
        let weight = histogram[(d - 1u) * WG];
        if (above + weight >= goal) {
          digit = d - 1u;
          break;
        }
        above += weight;
      }
      shared_prefix = prefix | (digit << shift);
      shared_above = above;
    }
    prefix = workgroupUniformLoad(&shared_prefix);
    above = workgroupUniformLoad(&shared_above);
  }
  return prefix;
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32) {
  let n = min(VOCAB, step.vocab_limit);
  let greedy = step.temperature <= 0.0 || step.top_k == 1u;
  var best = NEG_BIG;
  var best_index = 0xffffffffu;
  for (var i = tid; i < n; i += WG) {
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
  let max_logit = workgroupUniformLoad(&red_value[0]);
  if (tid == 0u) {
    chosen = red_index[0];
  }
  workgroupBarrier(); // everyone has read red_value[0] before it is reused

  if (!greedy) {
    var floor = 0u;
    if (step.top_k > 0u && step.top_k < n) {
      floor = radix_select(tid, n, false, f32(step.top_k), 0u, max_logit);
    }
    if (step.top_p < 1.0) {
      var kept_mass = 0.0;
      for (var i = tid; i < n; i += WG) {
        if (order_key(work[i]) >= floor) {
          kept_mass += exp(work[i] - max_logit);
        }
      }
      let total = reduce_sum(tid, kept_mass);
      floor = radix_select(tid, n, true, step.top_p * total, floor, max_logit);
    }
    // Draw: thread tid owns ids [tid * chunk, (tid + 1) * chunk); thread 0 finds the chunk
    // holding u * Z from the chunk sums, then that chunk's thread walks it in the same order.
    let chunk = (n + WG - 1u) / WG;
    let begin = min(tid * chunk, n);
    let end = min(begin + chunk, n);
    var mass = 0.0;
    for (var i = begin; i < end; i++) {
      if (order_key(work[i]) >= floor) {
        mass += exp(work[i] - max_logit);
      }
    }
    red_value[tid] = mass;
    workgroupBarrier();
    if (tid == 0u) {
      var total = 0.0;
      for (var t = 0u; t < WG; t++) {
        total += red_value[t];
      }
      let position = step.pos0 + step.n_tokens - 1u;
      let u = f32(pcg_hash(step.seed ^ pcg_hash(position)) >> 8u) * (1.0 / 16777216.0);
      var residual = u * total;
      var owner = 0u;
      for (var t = 0u; t < WG; t++) {
        if (red_value[t] > 0.0) {
          owner = t;
          if (residual < red_value[t]) {
            break;
          }
          residual -= red_value[t];
        }
      }
      red_index[0] = owner;
      red_value[0] = residual;
    }
    let owner = workgroupUniformLoad(&red_index[0]);
    if (tid == owner) {
      let residual = red_value[0];
      var running = 0.0;
      for (var i = begin; i < end; i++) {
        if (order_key(work[i]) >= floor) {
          chosen = i; // the last kept id stands if rounding leaves residual unreached
          running += exp(work[i] - max_logit);
          if (residual < running) {
            break;
          }
        }
      }
    }
  }
  workgroupBarrier();
  if (tid == 0u) {
    let id = chosen;
    ids[0] = id;
    seen[id >> 5u] |= 1u << (id & 31u);
  }
}
