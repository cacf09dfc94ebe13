// peak_flops.wgsl: a compute-bound loop of independent f32 FMAs in registers, to measure the
// device's achievable f32 rate (the ceiling the prefill matmul is judged against).
//
// Bindings (group 0):
//   0 sink: (WORKGROUPS * WG) f32, written so the arithmetic cannot be optimised away
// Dispatch: any number of workgroups (flattened over x). Each thread does ITERATIONS * 8 * 4
// FMAs (8 independent vec4 chains), 2 FLOPs each.

override WG: u32 = 256;
override ITERATIONS: u32 = 1024;

@group(0) @binding(0) var<storage, read_write> sink: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let seed = f32(gid.x) * 1e-7;
  var a0 = vec4<f32>(seed); var a1 = a0 + 0.1; var a2 = a0 + 0.2; var a3 = a0 + 0.3;
  var a4 = a0 + 0.4; var a5 = a0 + 0.5; var a6 = a0 + 0.6; var a7 = a0 + 0.7;
  let m = vec4<f32>(0.9999);
  let c = vec4<f32>(1e-4);
  for (var i = 0u; i < ITERATIONS; i++) {
    a0 = fma(a0, m, c); a1 = fma(a1, m, c); a2 = fma(a2, m, c); a3 = fma(a3, m, c);
    a4 = fma(a4, m, c); a5 = fma(a5, m, c); a6 = fma(a6, m, c); a7 = fma(a7, m, c);
  }
  let s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
  sink[gid.x] = s.x + s.y + s.z + s.w;
}
