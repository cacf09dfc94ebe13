// reduce_workgroup.wgsl: sums PARTIALS per-thread values over a workgroup of WG threads in
// workgroup memory (a tree of log2(WG) barrier steps). The portable twin of
// reduce_subgroup.wgsl. Expects the kernel's WG (power of two), PARTIALS and MAX_PARTIALS.

var<workgroup> reduce_scratch: array<f32, WG * PARTIALS>;

// Returns the workgroup-wide sum of partial `tid` to threads tid < PARTIALS.
fn reduce_partials(acc: array<f32, MAX_PARTIALS>, tid: u32) -> f32 {
  for (var p = 0u; p < PARTIALS; p++) {
    reduce_scratch[p * WG + tid] = acc[p];
  }
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (tid < stride) {
      for (var p = 0u; p < PARTIALS; p++) {
        reduce_scratch[p * WG + tid] += reduce_scratch[p * WG + tid + stride];
      }
    }
    workgroupBarrier();
  }
  return reduce_scratch[min(tid, PARTIALS - 1u) * WG];
}
