/**
 * The rotary embedding table: cos and sin of position * inv_freq for every position and
 * frequency, computed once in float64 on the CPU (WGSL's sin/cos are only accurate near
 * [-pi, pi], and position * inv_freq reaches thousands of radians).
 * inv_freq follows transformers' LlamaRotaryEmbedding, including rope_scaling types "linear"
 * and "llama3" (Llama 3.1's frequency-dependent scaling).
 */

export type RopeScaling =
  | { type: 'linear'; factor: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number };

export function inverseFrequencies(headDim: number, theta: number, scaling?: RopeScaling): Float64Array {
  const half = headDim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / theta ** ((2 * i) / headDim);
  if (scaling?.type === 'linear') {
    for (let i = 0; i < half; i++) inv[i] /= scaling.factor;
  } else if (scaling?.type === 'llama3') {
    // transformers' _compute_llama3_parameters
    const lowWavelength = scaling.originalMaxPositions / scaling.lowFreqFactor;
    const highWavelength = scaling.originalMaxPositions / scaling.highFreqFactor;
    for (let i = 0; i < half; i++) {
      const wavelength = (2 * Math.PI) / inv[i];
      if (wavelength > lowWavelength) {
        inv[i] /= scaling.factor;
      } else if (wavelength >= highWavelength) {
        const smooth = (scaling.originalMaxPositions / wavelength - scaling.lowFreqFactor) / (scaling.highFreqFactor - scaling.lowFreqFactor);
        inv[i] = (1 - smooth) * (inv[i] / scaling.factor) + smooth * inv[i];
      }
    }
  }
  return inv;
}

/** (maxPositions, headDim / 2) pairs (cos, sin), as rope_kv.wgsl reads them. */
export function ropeTable(headDim: number, maxPositions: number, theta: number, scaling?: RopeScaling): Float32Array {
  const inv = inverseFrequencies(headDim, theta, scaling);
  const half = headDim / 2;
  const table = new Float32Array(maxPositions * half * 2);
  for (let p = 0; p < maxPositions; p++) {
    for (let i = 0; i < half; i++) {
      const angle = p * inv[i];
      table[2 * (p * half + i)] = Math.cos(angle);
      table[2 * (p * half + i) + 1] = Math.sin(angle);
    }
  }
  return table;
}
