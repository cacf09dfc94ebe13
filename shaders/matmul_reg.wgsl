// matmul_reg.wgsl: prefill matrix product Y = X W^T (+ Y when ACCUMULATE), register-tiled for
// GPUs: each thread keeps a 4 x 8 block of Y in registers, so every value read from workgroup
// memory feeds 4 or 8 FMAs (matmul.wgsl's 4 x 4 blocks feed 4, and its workgroup-memory reads,
// not the FMAs, bound it at ~44% of an H100's f32 rate). The next K step's X and W are loaded
// into registers while this one computes, so global latency hides behind arithmetic.
//
// Composed with a weight accessor providing weight8() (q4 is unpacked once per tile, here).
// Bindings (group 0):
//   0 step: Step (n_tokens = M, the rows of X and Y)
//   1 x: (M, IN_DIM) f32
//   2 y: (M, OUT_DIM) f32; read too when ACCUMULATE (the fused residual add)
// Group 1: the weight matrix (OUT_DIM, IN_DIM).
// Dispatch: (ceil(OUT_DIM / 128), ceil(M / 64)). 256 threads as 16 x 16: thread (tx, ty)
// computes tokens m0 + 4 ty .. + 3 and outputs n0 + 4 tx .. + 3 and n0 + 64 + 4 tx .. + 3
// (two vec4 columns 64 apart, so neighbouring threads read neighbouring vec4s: no bank
// conflicts). K advances 16 at a time; the tiles are stored k-major.
// Workgroup memory: 4 KiB of X + 8 KiB of W (fits WebGPU's default 16 KiB).

override IN_DIM: u32;   // multiple of 8
override OUT_DIM: u32;
override ACCUMULATE: bool = false;
const TILE_M: u32 = 64u;
const TILE_N: u32 = 128u;
const TILE_K: u32 = 16u;

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;   // (M, IN_DIM / 4)
@group(0) @binding(2) var<storage, read_write> y: array<f32>;   // (M, OUT_DIM)

var<workgroup> x_tile: array<array<vec4<f32>, 16>, 16>; // [k][m / 4]: 64 tokens
var<workgroup> w_tile: array<array<vec4<f32>, 32>, 16>; // [k][n / 4]: 128 outputs

// Global -> registers: one vec4 of X (token m0 + tid / 4, k0 + 4 (tid % 4)) and one chunk of 8
// weights (output n0 + tid / 2, k0 + 8 (tid % 2)) per thread and K step.
fn load_x(m0: u32, k0: u32, tid: u32) -> vec4<f32> {
  let m = m0 + tid / 4u;
  let k = k0 + 4u * (tid % 4u);
  if (m < step.n_tokens && k < IN_DIM) {
    return x[m * (IN_DIM / 4u) + k / 4u];
  }
  return vec4<f32>(0.0);
}

fn load_w(n0: u32, k0: u32, tid: u32) -> W8 {
  let n = n0 + tid / 2u;
  let k8 = k0 / 8u + tid % 2u;
  if (n < OUT_DIM && k8 < IN_DIM / 8u) {
    return weight8(n, k8);
  }
  return W8(vec4<f32>(0.0), vec4<f32>(0.0));
}

@compute @workgroup_size(16, 16)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(local_invocation_index) tid: u32,
) {
  let n0 = wid.x * TILE_N;
  let m0 = wid.y * TILE_M;
  // acc[i][c]: token m0 + 4 ly + i, outputs n0 + 4 lx + 64 c .. + 3 (c = 0, 1).
  var acc: array<array<vec4<f32>, 2>, 4>;
  var next_x = load_x(m0, 0u, tid);
  var next_w = load_w(n0, 0u, tid);

  for (var k0 = 0u; k0 < IN_DIM; k0 += TILE_K) {
    {
      let m = tid / 4u;
      let kq = 4u * (tid % 4u);
      for (var c = 0u; c < 4u; c++) {
        x_tile[kq + c][m / 4u][m % 4u] = next_x[c];
      }
      let n = tid / 2u;
      let kb = 8u * (tid % 2u);
      for (var c = 0u; c < 4u; c++) {
        w_tile[kb + c][n / 4u][n % 4u] = next_w.lo[c];
        w_tile[kb + 4u + c][n / 4u][n % 4u] = next_w.hi[c];
      }
    }
    workgroupBarrier();
    if (k0 + TILE_K < IN_DIM) {
      next_x = load_x(m0, k0 + TILE_K, tid);
      next_w = load_w(n0, k0 + TILE_K, tid);
    }
    for (var k = 0u; k < TILE_K; k++) {
      let a = x_tile[k][lid.y];
      let b0 = w_tile[k][lid.x];
      let b1 = w_tile[k][lid.x + 16u];
      for (var i = 0u; i < 4u; i++) {
        acc[i][0] += a[i] * b0;
        acc[i][1] += a[i] * b1;
      }
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < 4u; i++) {
    let m = m0 + 4u * lid.y + i;
    if (m >= step.n_tokens) {
      break;
    }
    for (var c = 0u; c < 2u; c++) {
      for (var j = 0u; j < 4u; j++) {
        let n = n0 + 64u * c + 4u * lid.x + j;
        if (n < OUT_DIM) {
          var value = acc[i][c][j];
          if (ACCUMULATE) {
            value += y[m * OUT_DIM + n];
          }
          y[m * OUT_DIM + n] = value;
        }
      }
    }
  }
}
