// gemv_q4_dot.wgsl: the decode GEMV for q4 weights on integer dot products, y = W x.
// As llama.cpp pairs Q4_0 weights with Q8 activations: each workgroup first quantises x (RMS-
// normalised on the fly with FUSED_NORM) to int8 with one f32 scale per group of 32 into
// workgroup memory; then every 8 weights cost two masks, a shift and two dot4I8Packed
// (WGSL's packed_4x8_integer_dot_product; gemv_q4.wgsl serves adapters without it):
//   sum_i (c_i - 8) s_w q_i s_x = s_w s_x (sum_i c_i q_i - 8 sum_i q_i),  per group of 32
// Staging x once per workgroup, where gemv_q4.wgsl has every thread read f32 x from memory for
// its rows, is what lets one workgroup hold many rows: ROWS = WG / LANES * ROWS_PER_THREAD.
//
// Composed with gemv_input.wgsl (x, gain, FUSED_NORM), gemv_output.wgsl (which rows; y,
// ACCUMULATE, SWIGLU) and a reducer providing reduce_partials() (the norm's sum of squares).
// Bindings (group 0):
//   0 step: Step (unused: one token)
//   1 x: (IN_DIM) f32 (see gemv_input.wgsl)
//   2 y: see gemv_output.wgsl
//   3 gain: (IN_DIM) f32 (see gemv_input.wgsl)
// Group 1 (the q4 matrix, see weights_q4.wgsl for the format):
//   0 codes: (OUT_DIM, IN_DIM / 32) vec4<u32>, 32 codes per group
//   1 scales: (OUT_DIM, ceil(IN_DIM / 64)) u32, two f16 scales each
// Dispatch: ceil(OUT_DIM / ROWS) workgroups, flattened over x and y (flat_workgroup). Thread t
// computes local rows (t / LANES) * ROWS_PER_THREAD + r over groups t % LANES, + LANES, ...: the
// LANES threads of a row read its codes side by side, 16 bytes each.
// Workgroup memory: IN_DIM * 5 / 4 bytes of staged x, ROWS * (LANES + 1) * 4 of partial sums,
// plus the reducer's and output's few; src/gpu/linear-op.ts sizes WG to the device's limit.
// Tunables: WG, LANES (divides WG), ROWS_PER_THREAD (<= MAX_ROWS_PER_THREAD).

requires packed_4x8_integer_dot_product;

override IN_DIM: u32;       // multiple of 32
override OUT_DIM: u32;
override WG: u32 = 256;
override LANES: u32 = 32;
override ROWS_PER_THREAD: u32 = 4;
override ROWS: u32 = WG / LANES * ROWS_PER_THREAD;
override PARTIALS: u32 = 1; // reduce_partials() sums the norm's sum of squares only
const MAX_PARTIALS: u32 = 1u;
const MAX_ROWS_PER_THREAD: u32 = 16u;

@group(0) @binding(0) var<uniform> step: Step;
@group(1) @binding(0) var<storage, read> codes: array<vec4<u32>>;
@group(1) @binding(1) var<storage, read> scales: array<u32>;

// Group g of x as int8, in the weights' nibble order (byte b of a code word holds elements 2b
// and 2b + 1): x_codes[2g] packs elements 0, 2, 4, 6 of each 8, x_codes[2g + 1] elements 1, 3, 5, 7.
var<workgroup> x_codes: array<vec4<u32>, IN_DIM / 16u>;
var<workgroup> x_scales: array<f32, IN_DIM / 32u>;
var<workgroup> x_offsets: array<i32, IN_DIM / 32u>; // 8 * the sum of the group's int8 codes
// (ROWS, LANES + 1) f32: one partial per row and lane; the pad keeps the row sums' reads on
// distinct banks.
var<workgroup> row_partials: array<f32, ROWS * (LANES + 1u)>;

// Quantises group g of the input: q = round(x * 127 / max|x|), exact for the largest element.
fn stage_group(g: u32) {
  var v: array<vec4<f32>, 8>;
  var amax = 0.0;
  for (var i = 0u; i < 8u; i++) {
    v[i] = input4(8u * g + i);
    let a = abs(v[i]);
    amax = max(amax, max(max(a.x, a.y), max(a.z, a.w)));
  }
  let inverse = select(0.0, 127.0 / amax, amax > 0.0);
  var even: vec4<u32>;
  var odd: vec4<u32>;
  var total = 0;
  for (var k = 0u; k < 4u; k++) {
    let a = vec4<i32>(round(v[2u * k] * inverse)); // elements 8k .. 8k + 3
    let b = vec4<i32>(round(v[2u * k + 1u] * inverse)); // elements 8k + 4 .. 8k + 7
    even[k] = pack4xI8(vec4<i32>(a.x, a.z, b.x, b.z));
    odd[k] = pack4xI8(vec4<i32>(a.y, a.w, b.y, b.w));
    total += a.x + a.y + a.z + a.w + b.x + b.y + b.z + b.w;
  }
  x_codes[2u * g] = even;
  x_codes[2u * g + 1u] = odd;
  x_scales[g] = amax / 127.0;
  x_offsets[g] = 8 * total;
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) tid: u32,
) {
  let wg_index = flat_workgroup(wid, nwg);
  let groups = IN_DIM / 32u;
  for (var g = tid; g < groups; g += WG) {
    stage_group(g);
  }
  workgroupBarrier();

  let lane = tid % LANES;
  let first_row = tid / LANES * ROWS_PER_THREAD;
  let scale_stride = (IN_DIM + 63u) / 64u;
  var rows: array<u32, MAX_ROWS_PER_THREAD>;
  for (var r = 0u; r < ROWS_PER_THREAD; r++) {
    rows[r] = output_weight_row(wg_index, first_row + r);
  }
  let nibbles = vec4<u32>(0x0f0f0f0fu);
  var acc: array<f32, MAX_ROWS_PER_THREAD>;
  for (var g = lane; g < groups; g += LANES) {
    let even = x_codes[2u * g];
    let odd = x_codes[2u * g + 1u];
    let offset = x_offsets[g];
    let x_scale = x_scales[g];
    for (var r = 0u; r < ROWS_PER_THREAD; r++) {
      let q = codes[rows[r] * groups + g];
      let w_scale = unpack2x16float(scales[rows[r] * scale_stride + g / 2u])[g & 1u];
      let lo = q & nibbles; // elements 0, 2, 4, 6 of each 8
      let hi = (q >> vec4<u32>(4u)) & nibbles; // elements 1, 3, 5, 7
      let d = dot4I8Packed(lo.x, even.x) + dot4I8Packed(lo.y, even.y) + dot4I8Packed(lo.z, even.z) + dot4I8Packed(lo.w, even.w)
        + dot4I8Packed(hi.x, odd.x) + dot4I8Packed(hi.y, odd.y) + dot4I8Packed(hi.z, odd.z) + dot4I8Packed(hi.w, odd.w);
      acc[r] += f32(d - offset) * (w_scale * x_scale);
    }
  }
  for (var r = 0u; r < ROWS_PER_THREAD; r++) {
    row_partials[(first_row + r) * (LANES + 1u) + lane] = acc[r];
  }
  var norm: array<f32, MAX_PARTIALS>;
  norm[0] = input_sum_squares;
  let scale = input_scale(reduce_partials(norm, tid), tid, 0u); // its barriers publish row_partials
  // ROWS may exceed WG (many rows a thread): each thread finishes rows tid, tid + WG, ...
  for (var r = tid; r < ROWS; r += WG) {
    var sum = 0.0;
    for (var l = 0u; l < LANES; l++) {
      sum += row_partials[r * (LANES + 1u) + l];
    }
    write_row(wg_index, r, sum * scale);
  }
  finish_rows(wg_index, tid);
}
