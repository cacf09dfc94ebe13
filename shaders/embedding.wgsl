// embedding.wgsl: x[t] = embedding row ids[t], dequantised to f32.
//
// Composed with a weight accessor providing weight8() over the (vocab, IN_DIM) embedding table,
// or over rows ROW_OFFSET .. ROW_OFFSET + ROWS of a table split into row blocks (one dispatch per
// block; a token whose id lies in another block is left to that block's dispatch).
// Bindings (group 0):
//   0 step: Step (n_tokens)
//   1 ids: (n_tokens) u32, already validated against the vocabulary
//   2 x: (n_tokens, IN_DIM) f32
// Group 1: the embedding table.
// Dispatch: ceil(n_tokens * IN_DIM / 8 / WG) workgroups, flattened over x and y; one thread per 8
// elements.

override IN_DIM: u32; // hidden size, multiple of 8
override WG: u32 = 256;
override ROW_OFFSET: u32 = 0;
override ROWS: u32 = 0xffffffffu;

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read_write> x: array<vec4<f32>>; // (n_tokens, IN_DIM / 4)

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) tid: u32,
) {
  let i = flat_workgroup(wid, nwg) * WG + tid; // chunk of 8 across all rows
  let chunks_per_row = IN_DIM / 8u;
  if (i >= step.n_tokens * chunks_per_row) {
    return;
  }
  let t = i / chunks_per_row;
  let k8 = i % chunks_per_row;
  let id = ids[t];
  if (id < ROW_OFFSET || id - ROW_OFFSET >= ROWS) {
    return;
  }
  let w = weight8(id - ROW_OFFSET, k8);
  x[2u * i] = w.lo;
  x[2u * i + 1u] = w.hi;
}
