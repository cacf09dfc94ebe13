// bandwidth.wgsl: reads a large buffer once and writes one value per workgroup, to measure
// the device's achievable read bandwidth (the ceiling a decode GEMV is judged against).
//
// Bindings (group 0):
//   0 data: (n) vec4<u32>, n = WORKGROUPS * WG * PER_THREAD
//   1 sink: (WORKGROUPS) u32, written so the reads cannot be optimised away
// Dispatch: WORKGROUPS workgroups, flattened over x and y. Each thread reads PER_THREAD vec4s
// strided by the whole grid, so every pass over the buffer is coalesced.

override WG: u32 = 256;
override PER_THREAD: u32 = 16;

@group(0) @binding(0) var<storage, read> data: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read_write> sink: array<u32>;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) tid: u32,
) {
  let group = flat_workgroup(wid, nwg);
  let threads = nwg.x * nwg.y * WG;
  var acc = vec4<u32>(0u);
  for (var i = 0u; i < PER_THREAD; i++) {
    acc ^= data[i * threads + group * WG + tid];
  }
  let folded = acc.x ^ acc.y ^ acc.z ^ acc.w;
  if (folded == 0x12345678u) {
    sink[group] = folded; // practically never true; keeps the loads alive
  }
}
