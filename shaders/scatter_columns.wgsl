// scatter_columns.wgsl: one row block's output into its columns of the whole output, for a
// matrix split into row blocks (src/gpu/row-blocks.ts): each block's matmul writes (T, BLOCK_COLS)
// to a scratch buffer, this copies (or, for the residual add, adds) it into y.
//   y[t, COL_OFFSET + j] (+)= block[t, j],   t < n_tokens, j < BLOCK_COLS
//
// Bindings (group 0):
//   0 step: Step (n_tokens)
//   1 block: (n_tokens, BLOCK_COLS) f32
//   2 y: (n_tokens, OUT_DIM) f32
// Dispatch: ceil(n_tokens * BLOCK_COLS / WG) workgroups, flattened over x and y.

override OUT_DIM: u32;
override BLOCK_COLS: u32;
override COL_OFFSET: u32;
override ACCUMULATE: bool = false;
override WG: u32 = 256;

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> block: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) tid: u32,
) {
  let i = flat_workgroup(wid, nwg) * WG + tid;
  if (i >= step.n_tokens * BLOCK_COLS) {
    return;
  }
  let t = i / BLOCK_COLS;
  let out = t * OUT_DIM + COL_OFFSET + i % BLOCK_COLS;
  if (ACCUMULATE) {
    y[out] += block[i];
  } else {
    y[out] = block[i];
  }
}
