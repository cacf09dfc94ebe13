// gemv_q4.wgsl: the decode GEMV specialised for q4 weights, y = W x (+ y when ACCUMULATE).
// gemv.wgsl reads q4 through weight8(), one u32 (8 codes) per load; this kernel gives each
// thread a whole 32-element group per step: one 16-byte load of codes and one scale, so each
// load instruction moves four times the bytes (the f16 GEMV's 16-byte loads reach ~94% of the
// measured bandwidth on an H100 where 4-byte q4 loads stalled near 40%; BENCHMARKS.md).
//
// Composed with gemv_input.wgsl (the input, optionally RMS-normalised on the fly),
// gemv_output.wgsl (which rows; residual add or SwiGLU epilogue) and a reducer providing
// reduce_partials(). Does not use weights_q4.wgsl's accessor; binds the same two buffers with a
// 16-byte element type. gemv_q4_dot.wgsl is the int8 dot-product twin, used where the adapter
// has WGSL's packed_4x8_integer_dot_product.
// Bindings (group 0):
//   0 step: Step (unused: one token)
//   1 x: (IN_DIM) f32 (see gemv_input.wgsl)
//   2 y: see gemv_output.wgsl
//   3 gain: (IN_DIM) f32 (see gemv_input.wgsl)
// Group 1 (the q4 matrix, see weights_q4.wgsl for the format):
//   0 codes: (OUT_DIM, IN_DIM / 32) vec4<u32>, 32 codes per group
//   1 scales: (OUT_DIM, ceil(IN_DIM / 64)) u32, two f16 scales each
// Dispatch: see gemv_output.wgsl, flattened over x and y (flat_workgroup).
// Tunables: WG (power of two), ROWS (<= MAX_PARTIALS; even with SWIGLU).

override IN_DIM: u32;       // multiple of 32
override OUT_DIM: u32;
override WG: u32 = 64;
override ROWS: u32 = 4;
override PARTIALS: u32 = ROWS + u32(FUSED_NORM); // the rows, plus the norm's sum of squares
const MAX_PARTIALS: u32 = 32u;

@group(0) @binding(0) var<uniform> step: Step;
@group(1) @binding(0) var<storage, read> codes: array<vec4<u32>>;
@group(1) @binding(1) var<storage, read> scales: array<u32>;

// sum over the 8 codes of `word` of (code - 8) * x, x being 8 consecutive activations.
// Integer work, not bandwidth, bounded the first version of this kernel (shift, mask and an
// int-to-float conversion per code): here byte b of the word holds codes 2b (low nibble) and
// 2b + 1 (high nibble), so two masks and two unpack4xU8 give all eight, and OR-ing each into the
// mantissa of 2^23 turns it into the float 2^23 + code without a conversion instruction; one
// subtraction of 2^23 + 8 then leaves code - 8 exactly.
const MAGIC_BITS: u32 = 0x4b000000u; // 2^23 as f32
const MAGIC_PLUS_8: f32 = 8388616.0; // 2^23 + 8

fn dot8(word: u32, xa: vec4<f32>, xb: vec4<f32>) -> f32 {
  let even = bitcast<vec4<f32>>(unpack4xU8(word & 0x0f0f0f0fu) | vec4<u32>(MAGIC_BITS)) - MAGIC_PLUS_8;
  let odd = bitcast<vec4<f32>>(unpack4xU8((word >> 4u) & 0x0f0f0f0fu) | vec4<u32>(MAGIC_BITS)) - MAGIC_PLUS_8;
  return dot(even, vec4<f32>(xa.x, xa.z, xb.x, xb.z)) + dot(odd, vec4<f32>(xa.y, xa.w, xb.y, xb.w));
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) tid: u32,
) {
  let wg_index = flat_workgroup(wid, nwg);
  let groups = IN_DIM / 32u;
  let scale_stride = (IN_DIM + 63u) / 64u;
  var acc: array<f32, MAX_PARTIALS>;
  for (var g = tid; g < groups; g += WG) {
    let xs = 8u * g;
    let x0 = input4(xs);
    let x1 = input4(xs + 1u);
    let x2 = input4(xs + 2u);
    let x3 = input4(xs + 3u);
    let x4 = input4(xs + 4u);
    let x5 = input4(xs + 5u);
    let x6 = input4(xs + 6u);
    let x7 = input4(xs + 7u);
    for (var r = 0u; r < ROWS; r++) {
      let row = output_weight_row(wg_index, r);
      let q = codes[row * groups + g];
      let scale = unpack2x16float(scales[row * scale_stride + g / 2u])[g & 1u];
      acc[r] += scale * (dot8(q.x, x0, x1) + dot8(q.y, x2, x3) + dot8(q.z, x4, x5) + dot8(q.w, x6, x7));
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
