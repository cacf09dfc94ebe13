// gemv.wgsl: matrix-vector product for decode, y = W x (+ y when ACCUMULATE).
// One token, so every weight is read exactly once: the kernel is bound by memory bandwidth.
// gemv_batched.wgsl is the same product for a few tokens at once (short prefill chunks).
//
// Composed with gemv_input.wgsl (the input, optionally RMS-normalised on the fly),
// gemv_output.wgsl (which rows, and the residual add or SwiGLU epilogue), a weight accessor
// (weights_f32 / weights_f16 / weights_q4) providing weight8() and a reducer
// (reduce_subgroup.wgsl where the device has subgroups, else reduce_workgroup.wgsl) providing
// reduce_partials().
// Bindings (group 0):
//   0 step: Step (unused: one token)
//   1 x: (IN_DIM) f32 (see gemv_input.wgsl)
//   2 y: see gemv_output.wgsl
//   3 gain: (IN_DIM) f32 (see gemv_input.wgsl)
// Group 1: the weight matrix (OUT_DIM, IN_DIM), see the accessor.
// Dispatch: see gemv_output.wgsl (ceil(OUT_DIM / ROWS) workgroups without SWIGLU), flattened
// over x and y (flat_workgroup).
// Each workgroup computes ROWS rows: its WG threads stride along the rows in chunks of 8, then
// the ROWS partial sums are reduced across the workgroup.
// Tunables: WG (power of two), ROWS (<= MAX_PARTIALS; even with SWIGLU).

override IN_DIM: u32;       // multiple of 8
override OUT_DIM: u32;
override WG: u32 = 64;
override ROWS: u32 = 4;
override PARTIALS: u32 = ROWS + u32(FUSED_NORM); // the rows, plus the norm's sum of squares
const MAX_PARTIALS: u32 = 16u;

@group(0) @binding(0) var<uniform> step: Step;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) tid: u32,
) {
  let wg_index = flat_workgroup(wid, nwg);
  var acc: array<f32, MAX_PARTIALS>;
  for (var k8 = tid; k8 < IN_DIM / 8u; k8 += WG) {
    let xa = input4(2u * k8);
    let xb = input4(2u * k8 + 1u);
    for (var r = 0u; r < ROWS; r++) {
      let w = weight8(output_weight_row(wg_index, r), k8);
      acc[r] += dot(w.lo, xa) + dot(w.hi, xb);
    }
  }
  acc[ROWS] = input_sum_squares;
  let sum = reduce_partials(acc, tid);
  let scale = input_scale(sum, tid, ROWS);
  if (tid < ROWS) {
    write_row(wg_index, tid, sum * scale);
  }
  finish_rows(wg_index, tid);
}
