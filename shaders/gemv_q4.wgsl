// gemv_q4.wgsl: the decode GEMV specialised for q4 weights, y = W x (+ y when ACCUMULATE).
// gemv.wgsl reads q4 through weight8(), one u32 (8 codes) per load; this kernel gives each
// thread a whole 32-element group per step: one 16-byte load of codes and one scale, so each
// load instruction moves four times the bytes (the f16 GEMV's 16-byte loads reach ~94% of the
// measured bandwidth on an H100 where 4-byte q4 loads stalled near 40%; BENCHMARKS.md).
//
// Composed with a reducer providing reduce_partials(). Does not use weights_q4.wgsl's
// accessor; binds the same two buffers with a 16-byte element type.
// Bindings (group 0):
//   0 step: Step (unused: one token)
//   1 x: (IN_DIM) f32
//   2 y: (OUT_DIM) f32; read too when ACCUMULATE (the fused residual add)
// Group 1 (the q4 matrix, see weights_q4.wgsl for the format):
//   0 codes: (OUT_DIM, IN_DIM / 32) vec4<u32>, 32 codes per group
//   1 scales: (OUT_DIM, ceil(IN_DIM / 64)) u32, two f16 scales each
// Dispatch: ceil(OUT_DIM / ROWS) workgroups, flattened over x and y (flat_workgroup).
// Tunables: WG (power of two), ROWS (<= MAX_PARTIALS).

override IN_DIM: u32;       // multiple of 32
override OUT_DIM: u32;
override WG: u32 = 64;
override ROWS: u32 = 4;
override ACCUMULATE: bool = false;
override PARTIALS: u32 = ROWS;
const MAX_PARTIALS: u32 = 8u;

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;      // (IN_DIM / 4)
@group(0) @binding(2) var<storage, read_write> y: array<f32>;      // (OUT_DIM)
@group(1) @binding(0) var<storage, read> codes: array<vec4<u32>>;
@group(1) @binding(1) var<storage, read> scales: array<u32>;

// sum over the 8 codes of `word` of (code - 8) * x, x being 8 consecutive activations.
fn dot8(word: u32, xa: vec4<f32>, xb: vec4<f32>) -> f32 {
  let lo = vec4<f32>((vec4<u32>(word) >> vec4<u32>(0u, 4u, 8u, 12u)) & vec4<u32>(15u)) - 8.0;
  let hi = vec4<f32>((vec4<u32>(word) >> vec4<u32>(16u, 20u, 24u, 28u)) & vec4<u32>(15u)) - 8.0;
  return dot(lo, xa) + dot(hi, xb);
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) tid: u32,
) {
  let row0 = flat_workgroup(wid, nwg) * ROWS;
  let groups = IN_DIM / 32u;
  let scale_stride = (IN_DIM + 63u) / 64u;
  var acc: array<f32, MAX_PARTIALS>;
  for (var g = tid; g < groups; g += WG) {
    let xs = 8u * g;
    let x0 = x[xs];
    let x1 = x[xs + 1u];
    let x2 = x[xs + 2u];
    let x3 = x[xs + 3u];
    let x4 = x[xs + 4u];
    let x5 = x[xs + 5u];
    let x6 = x[xs + 6u];
    let x7 = x[xs + 7u];
    for (var r = 0u; r < ROWS; r++) {
      // Rows past the end read row OUT_DIM - 1 again rather than branch: the result is dropped.
      let row = min(row0 + r, OUT_DIM - 1u);
      let q = codes[row * groups + g];
      let scale = unpack2x16float(scales[row * scale_stride + g / 2u])[g & 1u];
      acc[r] += scale * (dot8(q.x, x0, x1) + dot8(q.y, x2, x3) + dot8(q.z, x4, x5) + dot8(q.w, x6, x7));
    }
  }
  let sum = reduce_partials(acc, tid);
  let row = row0 + tid;
  if (tid < ROWS && row < OUT_DIM) {
    var value = sum;
    if (ACCUMULATE) {
      value += y[row];
    }
    y[row] = value;
  }
}
