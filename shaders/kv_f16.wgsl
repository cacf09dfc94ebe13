// kv_f16.wgsl: KV cache entries stored as f16, two per u32 (pack2x16float is core WGSL, so no
// shader-f16 is needed). Half the memory and half the bytes attention reads per key; k and v are
// outputs of a normed projection, far inside f16's range, and the clamp keeps an outlier finite
// (pack2x16float of a value past 65504 is undefined).
alias KvPair = u32;

const KV_F16_MAX: f32 = 65504.0;

fn kv_pack(v: vec2<f32>) -> KvPair {
  return pack2x16float(clamp(v, vec2<f32>(-KV_F16_MAX), vec2<f32>(KV_F16_MAX)));
}

fn kv_unpack(p: KvPair) -> vec2<f32> {
  return unpack2x16float(p);
}
