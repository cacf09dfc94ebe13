// sample_draw.wgsl: the draw that ends a sampled step, one workgroup, after sample_scan.wgsl's
// PHASE 2 wrote each slice's kept mass: the kept ids (keys >= floor, sample_state.wgsl) in id
// order up to u * Z, u from the seed and the position: slice by slice, then thread chunk by
// chunk within the slice, then id by id. Writes the chosen id to ids[0] and into the seen set.
// Greedy steps have their answer already (sample_pick.wgsl) and skip this.
//
// Bindings (group 0): as sample_pick.wgsl's
//   0 step: Step (sampler settings; the sampled row's position is pos0 + n_tokens - 1)
//   1 logits: (VOCAB) f32 (unused here)
//   2 seen: (ceil(VOCAB / 32)) u32 bitset; the chosen id is added
//   3 work: (VOCAB) f32, the processed logits
//   4 state: (STATE_WORDS) u32
//   5 partials: (SLICES, 2 + DIGITS) u32: word 0 of each slice its kept mass, f32
//   6 ids: (>= 1) u32; ids[0] = the chosen id
// Dispatch: 1 workgroup of WG threads.

override VOCAB: u32;
override SLICE: u32 = 2048;
override WG: u32 = 256; // a power of two
const DIGITS: u32 = 16u;

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> seen: array<u32>;
@group(0) @binding(3) var<storage, read> work: array<f32>;
@group(0) @binding(4) var<storage, read_write> state: array<u32>;
@group(0) @binding(5) var<storage, read> partials: array<u32>;
@group(0) @binding(6) var<storage, read_write> ids: array<u32>;

var<workgroup> shared_owner: u32;
var<workgroup> shared_residual: f32;
var<workgroup> shared_thread: u32;

fn pcg_hash(v: u32) -> u32 {
  let h = v * 747796405u + 2891336453u;
  let word = ((h >> ((h >> 28u) + 4u)) ^ h) * 277803737u;
  return (word >> 22u) ^ word;
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32) {
  let n = min(VOCAB, step.vocab_limit);
  let slices = (VOCAB + SLICE - 1u) / SLICE;
  let greedy = sampling_greedy(step);
  if (greedy) {
    return;
  }
  // Thread 0 finds the slice holding u * Z from the slices' kept masses.
  let max_logit = bitcast<f32>(state[SAMPLE_MAX]);
  let floor = state[SAMPLE_FLOOR];
  if (tid == 0u) {
    var total = 0.0;
    for (var s = 0u; s < slices; s++) {
      total += bitcast<f32>(partials[s * (2u + DIGITS)]);
    }
    let position = step.pos0 + step.n_tokens - 1u;
    let u = f32(pcg_hash(step.seed ^ pcg_hash(position)) >> 8u) * (1.0 / 16777216.0);
    var residual = u * total;
    var owner = 0u;
    for (var s = 0u; s < slices; s++) {
      let mass = bitcast<f32>(partials[s * (2u + DIGITS)]);
      if (mass > 0.0) {
        owner = s;
        if (residual < mass) {
          break;
        }
        residual -= mass;
      }
    }
    shared_owner = owner;
    shared_residual = residual;
  }
  let owner_slice = workgroupUniformLoad(&shared_owner);
  // Within the slice: thread tid owns ids [tid * chunk, (tid + 1) * chunk) of it.
  let slice_begin = min(owner_slice * SLICE, n);
  let slice_end = min(slice_begin + SLICE, n);
  let chunk = (SLICE + WG - 1u) / WG;
  let begin = min(slice_begin + tid * chunk, slice_end);
  let end = min(begin + chunk, slice_end);
  var mass = 0.0;
  for (var i = begin; i < end; i++) {
    if (order_key(work[i]) >= floor) {
      mass += exp(work[i] - max_logit);
    }
  }
  red_value[tid] = mass;
  workgroupBarrier();
  if (tid == 0u) {
    var residual = shared_residual;
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
    shared_thread = owner;
    shared_residual = residual;
  }
  let owner_thread = workgroupUniformLoad(&shared_thread);
  if (tid == owner_thread) {
    let residual = shared_residual;
    var chosen = 0xffffffffu;
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
    ids[0] = chosen;
    seen[chosen >> 5u] |= 1u << (chosen & 31u);
  }
}
