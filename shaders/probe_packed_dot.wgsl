// probe_packed_dot.wgsl: a feature probe — does this WGSL compiler have packed_4x8_integer_dot_product (dot4I8Packed)?
// Compiled once when the device is created (device.ts); never dispatched. A language feature
// belongs to the compiler, not to the adapter, so compiling it is the one test a worker and the
// Node CLI can both make. gemv_q4_dot.wgsl needs it; without it linear-op.ts keeps gemv_q4.wgsl.
// Bindings: o (2) i32, unused.
requires packed_4x8_integer_dot_product;

@group(0) @binding(0) var<storage, read_write> o: array<i32>;

@compute @workgroup_size(1)
fn main() {
  o[0] = dot4I8Packed(pack4xI8(vec4<i32>(o[1])), 0x01010101u);
}
