// source.wgsl: reads element e of a checkpoint tensor uploaded as raw little-endian bytes, so
// conversion and quantisation happen on the GPU. Composed before convert_* / quantize_q4.
//
// Bindings (group 0):
//   1 source: raw tensor bytes as u32; F32 one element per u32, F16/BF16 two (element 2j low)
// SRC_DTYPE: 0 = F32, 1 = F16, 2 = BF16 (src/gpu/shaders.ts SOURCE_DTYPE_CODE).

override SRC_DTYPE: u32;

@group(0) @binding(1) var<storage, read> source: array<u32>;

fn source_value(e: u32) -> f32 {
  if (SRC_DTYPE == 0u) {
    return bitcast<f32>(source[e]);
  }
  let word = source[e >> 1u];
  if (SRC_DTYPE == 1u) {
    return unpack2x16float(word)[e & 1u];
  }
  return bf16_to_f32(word >> (16u * (e & 1u)));
}
