// reduce_subgroup.wgsl: sums PARTIALS per-thread values over a workgroup with subgroupAdd, then
// one barrier to combine the subgroups. Makes no assumption about subgroup size or which
// threads share a subgroup: each subgroup's elected lane claims a slot with an atomic.
// Expects the kernel's WG, PARTIALS and MAX_PARTIALS. WebGPU subgroups have >= 4 lanes, so a
// workgroup has at most WG / 4 of them.
enable subgroups;

var<workgroup> reduce_slots: array<f32, (WG / 4u) * PARTIALS>;
var<workgroup> reduce_slot_count: atomic<u32>;

// Returns the workgroup-wide sum of partial `tid` to threads tid < PARTIALS (others get 0).
fn reduce_partials(acc: array<f32, MAX_PARTIALS>, tid: u32) -> f32 {
  var sums: array<f32, MAX_PARTIALS>;
  for (var p = 0u; p < PARTIALS; p++) {
    sums[p] = subgroupAdd(acc[p]);
  }
  if (subgroupElect()) {
    let slot = atomicAdd(&reduce_slot_count, 1u);
    for (var p = 0u; p < PARTIALS; p++) {
      reduce_slots[slot * PARTIALS + p] = sums[p];
    }
  }
  workgroupBarrier();
  var total = 0.0;
  if (tid < PARTIALS) {
    let slots = atomicLoad(&reduce_slot_count);
    for (var s = 0u; s < slots; s++) {
      total += reduce_slots[s * PARTIALS + tid];
    }
  }
  return total;
}
