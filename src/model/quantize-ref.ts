/**
 * CPU mirror of the q4 format (shaders/quantize_q4.wgsl, weights_q4.wgsl), for tests and for
 * the quantisation-error measurements: quantise in float32 arithmetic exactly as the kernel
 * does, and dequantise codes + scales back to floats.
 */
import { f16BitsToF32, f32ToF16Bits } from '../loader/dtype';

export const Q4_GROUP = 32;

export interface Q4Matrix {
  codes: Uint32Array; // (rows, cols / 8)
  scales: Uint32Array; // (rows, ceil(cols / 64)), two f16 per u32
}

export function quantizeQ4Ref(values: Float32Array, rows: number, cols: number): Q4Matrix {
  const f = Math.fround;
  const pairs = Math.ceil(cols / 64);
  const codes = new Uint32Array((rows * cols) / 8);
  const scales = new Uint32Array(rows * pairs);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < cols / Q4_GROUP; g++) {
      const base = r * cols + g * Q4_GROUP;
      let extreme = 0;
      for (let i = 0; i < Q4_GROUP; i++) if (Math.abs(values[base + i]) > Math.abs(extreme)) extreme = values[base + i];
      const scaleBits = f32ToF16Bits(f(extreme / -8));
      const scale = f16BitsToF32(scaleBits);
      const inverse = scale !== 0 ? f(1 / scale) : 0;
      for (let i = 0; i < Q4_GROUP; i++) {
        const code = Math.min(15, Math.max(0, Math.floor(f(f(values[base + i] * inverse) + 8.5))));
        const e = g * Q4_GROUP + i;
        codes[(r * cols + e) >> 3] |= code << (4 * (e & 7));
      }
      scales[r * pairs + (g >> 1)] |= scaleBits << (16 * (g & 1));
    }
  }
  return { codes, scales };
}

export function dequantizeQ4Ref(q: Q4Matrix, rows: number, cols: number): Float64Array {
  const pairs = Math.ceil(cols / 64);
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let e = 0; e < cols; e++) {
      const g = e >> 5;
      const scale = f16BitsToF32((q.scales[r * pairs + (g >> 1)] >>> (16 * (g & 1))) & 0xffff);
      const code = (q.codes[(r * cols + e) >> 3] >>> (4 * (e & 7))) & 15;
      out[r * cols + e] = (code - 8) * scale;
    }
  }
  return out;
}

/** IEEE round-half-to-even, as WGSL's round(). */
function roundHalfEven(v: number): number {
  const floor = Math.floor(v);
  const diff = v - floor;
  if (diff !== 0.5) return Math.round(v);
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * The int8 activations gemv_q4_dot.wgsl stages, dequantised: per group of 32, q = round(x * 127 /
 * max|x|) in float32 arithmetic as the kernel does, returned as q * max|x| / 127.
 */
export function quantizeActivationRef(x: Float32Array): Float64Array {
  const f = Math.fround;
  const out = new Float64Array(x.length);
  for (let g = 0; g < x.length; g += Q4_GROUP) {
    let amax = 0;
    for (let i = g; i < g + Q4_GROUP; i++) amax = Math.max(amax, Math.abs(x[i]));
    const inverse = amax > 0 ? f(127 / amax) : 0;
    const scale = f(amax / 127);
    for (let i = g; i < g + Q4_GROUP; i++) out[i] = roundHalfEven(f(x[i] * inverse)) * scale;
  }
  return out;
}
