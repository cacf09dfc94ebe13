// gemv_output.wgsl: which weight rows a decode GEMV workgroup computes and how it writes them:
// y = sum (+ y when ACCUMULATE, the fused residual add), or with SWIGLU the LLaMA MLP's
// activation in the epilogue of the fused gate/up GEMV:
//   y[j] = silu(gate[j]) * up[j],  gate = rows 0 .. OUT_DIM / 2, up = rows OUT_DIM / 2 .. OUT_DIM
// so a decode step needs no separate swiglu dispatch (and never stores gate and up).
// Composed into gemv.wgsl, gemv_q4.wgsl and gemv_q4_dot.wgsl, which declare WG, ROWS (rows per
// workgroup; even with SWIGLU; may exceed WG) and OUT_DIM.
//
// Bindings (group 0):
//   2 y: (OUT_DIM) f32, or (OUT_DIM / 2) with SWIGLU; read too when ACCUMULATE
// Dispatch: ceil(OUT_DIM / ROWS) workgroups either way. Without SWIGLU workgroup w owns rows
// w * ROWS ..; with it, outputs j = w * ROWS / 2 .., so gate rows j and up rows OUT_DIM / 2 + j.

override ACCUMULATE: bool = false;
override SWIGLU: bool = false;

@group(0) @binding(2) var<storage, read_write> y: array<f32>;

var<workgroup> output_sums: array<f32, ROWS>;

// The weight row behind local row r of workgroup `wg_index`. Rows past the end read the last row
// again rather than branch: their results are dropped.
fn output_weight_row(wg_index: u32, r: u32) -> u32 {
  if (SWIGLU) {
    let half_rows = ROWS / 2u;
    let j = min(wg_index * half_rows + r % half_rows, OUT_DIM / 2u - 1u);
    return select(j, j + OUT_DIM / 2u, r >= half_rows);
  }
  return min(wg_index * ROWS + r, OUT_DIM - 1u);
}

// Stores the finished sum of local row r (each row once, by any thread): y, or with SWIGLU the
// workgroup's row sums for finish_rows().
fn write_row(wg_index: u32, r: u32, sum: f32) {
  if (SWIGLU) {
    output_sums[r] = sum;
    return;
  }
  let row = wg_index * ROWS + r;
  if (row < OUT_DIM) {
    var value = sum;
    if (ACCUMULATE) {
      value += y[row];
    }
    y[row] = value;
  }
}

// After every row's write_row: the SwiGLU outputs. Called by every thread (holds a barrier).
fn finish_rows(wg_index: u32, tid: u32) {
  if (!SWIGLU) {
    return;
  }
  workgroupBarrier();
  let half_rows = ROWS / 2u;
  for (var r = tid; r < half_rows; r += WG) {
    let j = wg_index * half_rows + r;
    if (j < OUT_DIM / 2u) {
      y[j] = silu(output_sums[r]) * output_sums[r + half_rows];
    }
  }
}
