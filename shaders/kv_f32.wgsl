// kv_f32.wgsl: KV cache entries stored as f32 (the f32 engine, which the float64 tests hold to
// 1e-4). A KvPair is two consecutive elements of a cache row; kernels index the cache in pairs.
alias KvPair = vec2<f32>;

fn kv_pack(v: vec2<f32>) -> KvPair {
  return v;
}

fn kv_unpack(p: KvPair) -> vec2<f32> {
  return p;
}
