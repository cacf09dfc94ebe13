// token_logprobs.wgsl: what scoring reads back from rows of logits. Per row, the log-probability
// of one given id (the next token of the scored text) and the TOP_K most likely ids with their
// log-probabilities: 1 + 2 TOP_K words a row instead of VOCAB floats.
//   logprob(i) = logits[i] - lse,  lse = max + log(sum_j exp(logits[j] - max))
// (log_softmax over the whole row, as torch.log_softmax over lm_head's output.)
// Top-K order: larger logit first, then smaller id on ties (torch.topk leaves ties unordered;
// this makes the result deterministic and testable).
//
// Bindings (group 0):
//   0 logits: (T, VOCAB) f32
//   1 targets: (T) u32: the id whose log-probability row t reports
//   2 out: (T, 1 + 2 TOP_K) u32: [target logprob, TOP_K ids, TOP_K logprobs], log-probs as f32 bits
// Dispatch: T workgroups of WG threads, one per row.
// Tunables: WG (power of two), TOP_K (<= MAX_TOP_K).
// Composed with reduce_workgroup.wgsl, whose reduce_partials() sums the softmax denominator.

override VOCAB: u32;
override WG: u32 = 128;
override TOP_K: u32 = 5;
const MAX_TOP_K: u32 = 8u;
override PARTIALS: u32 = 1; // reduce_partials() sums one value: the softmax denominator
const MAX_PARTIALS: u32 = 1u;

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;

// Each thread's best TOP_K (value, id) pairs, best first, merged pairwise down a tree.
var<workgroup> top_values: array<f32, WG * MAX_TOP_K>;
var<workgroup> top_ids: array<u32, WG * MAX_TOP_K>;

fn ranks_before(value: f32, id: u32, other_value: f32, other_id: u32) -> bool {
  return value > other_value || (value == other_value && id < other_id);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let row = wid.x;
  let base = row * VOCAB;

  // Pass 1: each thread keeps the best TOP_K of its strided share (ids ascending, so a tie
  // never displaces an earlier id: strict > suffices here).
  var values: array<f32, MAX_TOP_K>;
  var ids: array<u32, MAX_TOP_K>;
  for (var k = 0u; k < TOP_K; k++) {
    values[k] = NEG_BIG;
    ids[k] = 0xffffffffu;
  }
  for (var i = tid; i < VOCAB; i += WG) {
    let v = logits[base + i];
    if (v > values[TOP_K - 1u]) {
      var k = TOP_K - 1u;
      while (k > 0u && v > values[k - 1u]) {
        values[k] = values[k - 1u];
        ids[k] = ids[k - 1u];
        k--;
      }
      values[k] = v;
      ids[k] = i;
    }
  }
  for (var k = 0u; k < TOP_K; k++) {
    top_values[tid * MAX_TOP_K + k] = values[k];
    top_ids[tid * MAX_TOP_K + k] = ids[k];
  }
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (tid < stride) {
      // Merge this slot's list with slot tid + stride's (both sorted) into the best TOP_K.
      let other = (tid + stride) * MAX_TOP_K;
      var a = 0u;
      var b = 0u;
      for (var k = 0u; k < TOP_K; k++) {
        let take_a = ranks_before(values[a], ids[a], top_values[other + b], top_ids[other + b]);
        let merged_value = select(top_values[other + b], values[a], take_a);
        let merged_id = select(top_ids[other + b], ids[a], take_a);
        top_values[tid * MAX_TOP_K + k] = merged_value;
        top_ids[tid * MAX_TOP_K + k] = merged_id;
        a += select(0u, 1u, take_a);
        b += select(1u, 0u, take_a);
      }
      for (var k = 0u; k < TOP_K; k++) {
        values[k] = top_values[tid * MAX_TOP_K + k];
        ids[k] = top_ids[tid * MAX_TOP_K + k];
      }
    }
    workgroupBarrier();
  }
  let max_logit = workgroupUniformLoad(&top_values[0]);

  // Pass 2: the softmax denominator around the maximum.
  var sum = 0.0;
  for (var i = tid; i < VOCAB; i += WG) {
    sum += exp(logits[base + i] - max_logit);
  }
  let total = reduce_partials(array<f32, MAX_PARTIALS>(sum), tid); // the row's sum on thread 0

  if (tid == 0u) {
    let lse = max_logit + log(total);
    let stride_out = 1u + 2u * TOP_K;
    let at = row * stride_out;
    let next_id = min(targets[row], VOCAB - 1u); // ids were checked on the CPU; never read past the row
    out[at] = bitcast<u32>(logits[base + next_id] - lse);
    for (var k = 0u; k < TOP_K; k++) {
      out[at + 1u + k] = top_ids[k];
      out[at + 1u + TOP_K + k] = bitcast<u32>(top_values[k] - lse);
    }
  }
}
