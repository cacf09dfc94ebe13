// gemv_input.wgsl: the decode GEMVs' input vector, optionally RMS-normalised on the fly. With
// FUSED_NORM the kernel reads the residual stream x and the norm's gain and computes
//   W rmsnorm(x) = (W (x * gain)) / sqrt(mean(x^2) + EPS)
// so the sum of squares rides along in the dot-product loop (each workgroup covers all of x)
// and the separate RMSNorm dispatch before qkv, gate_up and lm_head disappears from decode.
// Composed into gemv.wgsl and gemv_q4.wgsl, which call input4(), count one extra partial for the
// sum of squares, and scale their sums by input_scale().
//
// Bindings (group 0):
//   1 x: (IN_DIM) f32, the residual stream (FUSED_NORM) or the already-normalised input
//   3 gain: (IN_DIM) f32 norm gain (bound to x itself when not FUSED_NORM)

override FUSED_NORM: bool = false;
override EPS: f32 = 1e-6;

@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> gain: array<vec4<f32>>;

var<private> input_sum_squares: f32;
var<workgroup> input_inverse_rms: f32;

fn input4(i: u32) -> vec4<f32> {
  let v = x[i];
  if (FUSED_NORM) {
    input_sum_squares += dot(v, v);
    return v * gain[i];
  }
  return v;
}

// After the reduction: 1 / rms(x) for FUSED_NORM (partial `index` holds the sum of squares),
// else 1. Called by every thread of the workgroup.
fn input_scale(reduced: f32, tid: u32, index: u32) -> f32 {
  if (!FUSED_NORM) {
    return 1.0;
  }
  if (tid == index) {
    input_inverse_rms = inverseSqrt(reduced / f32(IN_DIM) + EPS);
  }
  return workgroupUniformLoad(&input_inverse_rms);
}
