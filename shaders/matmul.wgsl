// matmul.wgsl: tiled matrix product for prefill, Y = X W^T (+ Y when ACCUMULATE).
// Many tokens share each weight tile, so this one is bound by arithmetic, not memory.
//
// Composed with a weight accessor providing weight8().
// Bindings (group 0):
//   0 step: Step (n_tokens = M, the rows of X and Y)
//   1 x: (M, IN_DIM) f32
//   2 y: (M, OUT_DIM) f32; read too when ACCUMULATE (the fused residual add)
// Group 1: the weight matrix (OUT_DIM, IN_DIM).
// Dispatch: (ceil(OUT_DIM / 64), ceil(M / 64)). A 16x16 workgroup computes a 64x64 tile of Y,
// each thread a 4x4 block, stepping through IN_DIM 16 at a time with both tiles in
// workgroup memory (stored k-major so the inner loop reads vec4s).

override IN_DIM: u32;   // multiple of 8
override OUT_DIM: u32;
override ACCUMULATE: bool = false;
const TILE: u32 = 64u;
const TILE_K: u32 = 16u;

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;   // (M, IN_DIM / 4)
@group(0) @binding(2) var<storage, read_write> y: array<f32>;   // (M, OUT_DIM)

var<workgroup> x_tile: array<array<vec4<f32>, 16>, 16>; // [k][m / 4]
var<workgroup> w_tile: array<array<vec4<f32>, 16>, 16>; // [k][n / 4]

@compute @workgroup_size(16, 16)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(local_invocation_index) tid: u32,
) {
  let m_rows = step.n_tokens;
  let n0 = wid.x * TILE;
  let m0 = wid.y * TILE;
  var acc: array<vec4<f32>, 4>; // acc[i][j] = Y[m0 + 4 ly + i, n0 + 4 lx + j]

  for (var k0 = 0u; k0 < IN_DIM; k0 += TILE_K) {
    // X tile: 64 rows x 16 k = 256 vec4s, one per thread.
    {
      let m = tid / 4u;
      let kq = tid % 4u;
      var v = vec4<f32>(0.0);
      if (m0 + m < m_rows && k0 + 4u * kq < IN_DIM) {
        v = x[(m0 + m) * (IN_DIM / 4u) + k0 / 4u + kq];
      }
      for (var c = 0u; c < 4u; c++) {
        x_tile[4u * kq + c][m / 4u][m % 4u] = v[c];
      }
    }
    // W tile: 64 rows x 16 k = 128 chunks of 8, on half the threads.
    if (tid < 128u) {
      let n = tid / 2u;
      let k8 = k0 / 8u + tid % 2u;
      var w = W8(vec4<f32>(0.0), vec4<f32>(0.0));
      if (n0 + n < OUT_DIM && k8 < IN_DIM / 8u) {
        w = weight8(n0 + n, k8);
      }
      let kb = 8u * (tid % 2u);
      for (var c = 0u; c < 4u; c++) {
        w_tile[kb + c][n / 4u][n % 4u] = w.lo[c];
        w_tile[kb + 4u + c][n / 4u][n % 4u] = w.hi[c];
      }
    }
    workgroupBarrier();
    for (var k = 0u; k < TILE_K; k++) {
      let a = x_tile[k][lid.y];
      let b = w_tile[k][lid.x];
      acc[0] += a[0] * b;
      acc[1] += a[1] * b;
      acc[2] += a[2] * b;
      acc[3] += a[3] * b;
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < 4u; i++) {
    let m = m0 + 4u * lid.y + i;
    if (m >= m_rows) {
      break;
    }
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + 4u * lid.x + j;
      if (n < OUT_DIM) {
        var value = acc[i][j];
        if (ACCUMULATE) {
          value += y[m * OUT_DIM + n];
        }
        y[m * OUT_DIM + n] = value;
      }
    }
  }
}
