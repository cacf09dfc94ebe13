// gemv_batched.wgsl: gemv.wgsl for prefill chunks of up to TOKENS rows: Y = X W^T (+ Y when
// ACCUMULATE). Each weight is read once and used for every row of X, so short chunks cost about
// what one decode step costs, where the tiled matmul would pad them to 64 rows.
//
// Composed with a weight accessor (weights_f32 / weights_f16 / weights_q4) providing weight8()
// and a reducer (reduce_subgroup.wgsl where the device has subgroups, else
// reduce_workgroup.wgsl) providing reduce_partials().
// Bindings (group 0):
//   0 step: Step (n_tokens <= TOKENS rows of X and Y)
//   1 x: (n_tokens, IN_DIM) f32
//   2 y: (n_tokens, OUT_DIM) f32; read too when ACCUMULATE (the fused residual add)
// Group 1: the weight matrix (OUT_DIM, IN_DIM), see the accessor.
// Dispatch: ceil(OUT_DIM / ROWS) workgroups, flattened over x and y (flat_workgroup).
// Each workgroup computes ROWS output columns for all rows of X: its WG threads stride along the
// weight rows in chunks of 8, then the ROWS * TOKENS partial sums are reduced across the group.
// Tunables: WG (power of two), ROWS, TOKENS (ROWS * TOKENS <= MAX_PARTIALS).

override IN_DIM: u32;       // multiple of 8
override OUT_DIM: u32;
override WG: u32 = 64;
override ROWS: u32 = 4;
override TOKENS: u32 = 4;
override ACCUMULATE: bool = false;
override PARTIALS: u32 = ROWS * TOKENS;
const MAX_PARTIALS: u32 = 32u;

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;      // (n_tokens, IN_DIM / 4)
@group(0) @binding(2) var<storage, read_write> y: array<f32>;      // (n_tokens, OUT_DIM)

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) tid: u32,
) {
  let row0 = flat_workgroup(wid, nwg) * ROWS;
  let n_tokens = step.n_tokens;
  var acc: array<f32, MAX_PARTIALS>; // acc[r * TOKENS + t] = partial Y[t, row0 + r]
  for (var k8 = tid; k8 < IN_DIM / 8u; k8 += WG) {
    for (var r = 0u; r < ROWS; r++) {
      // Rows past the end read row OUT_DIM - 1 again rather than branch: the result is dropped.
      let w = weight8(min(row0 + r, OUT_DIM - 1u), k8);
      for (var t = 0u; t < TOKENS; t++) {
        // Tokens past n_tokens re-read the last row (in bounds); their sums are dropped.
        let base = min(t, n_tokens - 1u) * (IN_DIM / 4u) + 2u * k8;
        acc[r * TOKENS + t] += dot(w.lo, x[base]) + dot(w.hi, x[base + 1u]);
      }
    }
  }
  let sum = reduce_partials(acc, tid);
  let row = row0 + tid / TOKENS;
  let t = tid % TOKENS;
  if (tid < PARTIALS && row < OUT_DIM && t < n_tokens) {
    var value = sum;
    if (ACCUMULATE) {
      value += y[t * OUT_DIM + row];
    }
    y[t * OUT_DIM + row] = value;
  }
}
