// random_fill.wgsl: fills a buffer with seeded pseudo-random weights generated on the GPU, for
// 7B-shaped tests and benchmarks that must not download or hold 4 GB on the host.
//   MODE 0: random u32 words (q4 codes: every nibble uniform in 0..15)
//   MODE 1: f16 pairs uniform in [-SCALE, SCALE]
//   MODE 2: f16 pairs both equal to SCALE (q4 group scales)
//   MODE 3: f32 values equal to SCALE (norm gains)
//
// Bindings (group 0):
//   0 params: Fill
//   1 out: (params.words) u32
// Dispatch: ceil(words / WG) workgroups, flattened over x and y.

struct Fill {
  words: u32,
  seed: u32,
  scale: f32,
}

override MODE: u32;
override WG: u32 = 256;

@group(0) @binding(0) var<uniform> params: Fill;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;

fn hash(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

fn unit(bits: u32) -> f32 {
  return f32(bits >> 8u) * (2.0 / 16777216.0) - 1.0; // uniform in [-1, 1)
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) tid: u32,
) {
  let i = flat_workgroup(wid, nwg) * WG + tid;
  if (i >= params.words) {
    return;
  }
  let bits = hash(params.seed ^ hash(i));
  switch MODE {
    case 0u: {
      out[i] = bits;
    }
    case 1u: {
      out[i] = pack2x16float(vec2<f32>(unit(bits), unit(hash(bits))) * params.scale);
    }
    case 2u: {
      out[i] = pack2x16float(vec2<f32>(params.scale, params.scale));
    }
    default: {
      out[i] = bitcast<u32>(params.scale);
    }
  }
}
