// reduce_workgroup.wgsl: sums ROWS per-thread partials over a workgroup of WG threads in
// workgroup memory (a tree of log2(WG) barrier steps). The portable twin of
// reduce_subgroup.wgsl. Expects the kernel's overrides WG (power of two), ROWS, MAX_ROWS.

var<workgroup> reduce_scratch: array<f32, WG * ROWS>;

// Returns the workgroup-wide sum of row `tid` to threads tid < ROWS (others get garbage).
fn reduce_rows(acc: array<f32, MAX_ROWS>, tid: u32) -> f32 {
  for (var r = 0u; r < ROWS; r++) {
    reduce_scratch[r * WG + tid] = acc[r];
  }
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (tid < stride) {
      for (var r = 0u; r < ROWS; r++) {
        reduce_scratch[r * WG + tid] += reduce_scratch[r * WG + tid + stride];
      }
    }
    workgroupBarrier();
  }
  return reduce_scratch[min(tid, ROWS - 1u) * WG];
}
