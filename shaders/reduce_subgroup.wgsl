// reduce_subgroup.wgsl: sums ROWS per-thread partials over a workgroup with subgroupAdd, then
// one barrier to combine the subgroups. Makes no assumption about subgroup size or which
// threads share a subgroup: each subgroup's elected lane claims a slot with an atomic.
// Expects the kernel's overrides WG, ROWS, MAX_ROWS. WebGPU subgroups have >= 4 lanes, so a
// workgroup has at most WG / 4 of them.
enable subgroups;

var<workgroup> reduce_slots: array<f32, (WG / 4u) * ROWS>;
var<workgroup> reduce_slot_count: atomic<u32>;

// Returns the workgroup-wide sum of row `tid` to threads tid < ROWS (others get 0).
fn reduce_rows(acc: array<f32, MAX_ROWS>, tid: u32) -> f32 {
  var sums: array<f32, MAX_ROWS>;
  for (var r = 0u; r < ROWS; r++) {
    sums[r] = subgroupAdd(acc[r]);
  }
  if (subgroupElect()) {
    let slot = atomicAdd(&reduce_slot_count, 1u);
    for (var r = 0u; r < ROWS; r++) {
      reduce_slots[slot * ROWS + r] = sums[r];
    }
  }
  workgroupBarrier();
  var total = 0.0;
  if (tid < ROWS) {
    let slots = atomicLoad(&reduce_slot_count);
    for (var s = 0u; s < slots; s++) {
      total += reduce_slots[s * ROWS + tid];
    }
  }
  return total;
}
