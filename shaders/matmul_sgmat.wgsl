// matmul_sgmat.wgsl: prefill matrix product Y = X W^T (+ Y when ACCUMULATE) on the GPU's matrix
// units (tensor cores) through chromium_experimental_subgroup_matrix: 16 x 16 x 16 products of
// f16 operands accumulated in f32. X is rounded to f16 as it is staged (W already is f16 or q4;
// values past f16's range are clamped), so results sit ~2^-11 relative from the f32 kernels'.
//
// Composed after a weight accessor providing weight8() and after sgmat_args.wgsl or
// sgmat_template.wgsl (sm_left, sm_right, sm_store: the same loads in the two syntaxes Dawn
// has taken), which device.ts picks by probing the compiler.
// Bindings (group 0):
//   0 step: Step (n_tokens = M, the rows of X and Y)
//   1 x: (M, IN_DIM) f32
//   2 y: (M, OUT_DIM) f32; read too when ACCUMULATE (the fused residual add)
// Group 1: the weight matrix (OUT_DIM, IN_DIM).
// Dispatch: (ceil(OUT_DIM / 64), ceil(M / 64)). 4 subgroups of SG_SIZE (the adapter's one
// subgroup size: the host uses this kernel only where the minimum and maximum agree), so
// WG = 4 SG_SIZE; subgroup s computes tokens m0 + 16 s .. + 15 against all 64 outputs: four
// 16 x 16 accumulators. K advances 32 at a time through f16 tiles in workgroup memory:
// a_tile (64 tokens x 32) row-major, b_tile (64 outputs x 32) k-contiguous, and c_stage
// (4 x 16 x 16 f32) where each subgroup's results pass on their way to y.

enable f16;

override IN_DIM: u32;   // multiple of 8
override OUT_DIM: u32;
override ACCUMULATE: bool = false;
override SG_SIZE: u32;
override WG: u32 = 128; // 4 * SG_SIZE
const TILE: u32 = 64u;
const TILE_K: u32 = 32u;
const F16_MAX: f32 = 65504.0;

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;   // (M, IN_DIM / 4)
@group(0) @binding(2) var<storage, read_write> y: array<f32>;   // (M, OUT_DIM)

var<workgroup> a_tile: array<f16, 2048>;  // [m][k], 64 x 32
var<workgroup> b_tile: array<f16, 2048>;  // [n][k], 64 x 32
var<workgroup> c_stage: array<f32, 1024>; // [subgroup][16 x 16]

fn to_f16(v: vec4<f32>) -> vec4<f16> {
  return vec4<f16>(clamp(v, vec4<f32>(-F16_MAX), vec4<f32>(F16_MAX)));
}

// X tile: 64 tokens x 32 of K = 512 vec4s; W tile: 64 outputs x 4 chunks of 8 = 256 chunks.
fn stage_tiles(m0: u32, n0: u32, k0: u32, tid: u32) {
  for (var i = tid; i < TILE * TILE_K / 4u; i += WG) {
    let m = i / (TILE_K / 4u);
    let kq = 4u * (i % (TILE_K / 4u));
    var v = vec4<f32>(0.0);
    if (m0 + m < step.n_tokens && k0 + kq < IN_DIM) {
      v = x[(m0 + m) * (IN_DIM / 4u) + (k0 + kq) / 4u];
    }
    let h = to_f16(v);
    for (var c = 0u; c < 4u; c++) {
      a_tile[m * TILE_K + kq + c] = h[c];
    }
  }
  for (var i = tid; i < TILE * TILE_K / 8u; i += WG) {
    let n = i / (TILE_K / 8u);
    let k8 = (k0 + 8u * (i % (TILE_K / 8u))) / 8u;
    var w = W8(vec4<f32>(0.0), vec4<f32>(0.0));
    if (n0 + n < OUT_DIM && k8 < IN_DIM / 8u) {
      w = weight8(n0 + n, k8);
    }
    let lo = to_f16(w.lo);
    let hi = to_f16(w.hi);
    let base = n * TILE_K + 8u * (i % (TILE_K / 8u));
    for (var c = 0u; c < 4u; c++) {
      b_tile[base + c] = lo[c];
      b_tile[base + 4u + c] = hi[c];
    }
  }
}

// Subgroup s's 16 x 16 result for outputs n0 + 16 j .. + 15, through c_stage to y.
fn write_block(m0: u32, n0: u32, s: u32, j: u32, lane: u32) {
  for (var e = lane; e < 256u; e += SG_SIZE) {
    let m = m0 + 16u * s + e / 16u;
    let n = n0 + 16u * j + e % 16u;
    if (m < step.n_tokens && n < OUT_DIM) {
      var value = c_stage[s * 256u + e];
      if (ACCUMULATE) {
        value += y[m * OUT_DIM + n];
      }
      y[m * OUT_DIM + n] = value;
    }
  }
}

// One accumulator out: stored to the subgroup's part of c_stage, then copied to y.
fn flush(m0: u32, n0: u32, s: u32, j: u32, lane: u32, acc: subgroup_matrix_result<f32, 16, 16>) {
  sm_store(s * 256u, acc);
  workgroupBarrier();
  write_block(m0, n0, s, j, lane);
  workgroupBarrier();
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let n0 = wid.x * TILE;
  let m0 = wid.y * TILE;
  let s = tid / SG_SIZE;
  let lane = tid % SG_SIZE;
  var acc0: subgroup_matrix_result<f32, 16, 16>;
  var acc1: subgroup_matrix_result<f32, 16, 16>;
  var acc2: subgroup_matrix_result<f32, 16, 16>;
  var acc3: subgroup_matrix_result<f32, 16, 16>;

  for (var k0 = 0u; k0 < IN_DIM; k0 += TILE_K) {
    stage_tiles(m0, n0, k0, tid);
    workgroupBarrier();
    for (var kk = 0u; kk < TILE_K; kk += 16u) {
      let left = sm_left(16u * s * TILE_K + kk);
      acc0 = subgroupMatrixMultiplyAccumulate(left, sm_right(kk), acc0);
      acc1 = subgroupMatrixMultiplyAccumulate(left, sm_right(16u * TILE_K + kk), acc1);
      acc2 = subgroupMatrixMultiplyAccumulate(left, sm_right(32u * TILE_K + kk), acc2);
      acc3 = subgroupMatrixMultiplyAccumulate(left, sm_right(48u * TILE_K + kk), acc3);
    }
    workgroupBarrier();
  }

  flush(m0, n0, s, 0u, lane, acc0);
  flush(m0, n0, s, 1u, lane, acc1);
  flush(m0, n0, s, 2u, lane, acc2);
  flush(m0, n0, s, 3u, lane, acc3);
}
