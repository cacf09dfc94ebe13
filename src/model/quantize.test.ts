/**
 * The q4 format, measured: which 4-bit scheme (quantize_q4.wgsl) and how far q4 logits land
 * from f32. The printed numbers are the ones quoted in docs/quantization.md.
 */
import { describe, expect, it } from 'vitest';
import { f16BitsToF32, f32ToF16Bits } from '../loader/dtype';
import { testGpu } from '../gpu/testing';
import type { LoadOptions } from './llama';
import { compareLogits, loadTinyModel } from './logit-checks';
import { tensorFormats } from './weights';
import { dequantizeQ4Ref, quantizeQ4Ref } from './quantize-ref';
import { buildTinyModel } from './tiny-model';

const f16 = (v: number) => f16BitsToF32(f32ToF16Bits(v));

/** Relative RMS error of a group-of-32 scheme over `values`. */
function schemeError(values: Float32Array, quantizeGroup: (group: Float32Array) => Float64Array): number {
  let error = 0;
  let energy = 0;
  for (let g = 0; g < values.length; g += 32) {
    const group = values.subarray(g, g + 32);
    const restored = quantizeGroup(group);
    group.forEach((v, i) => {
      error += (v - restored[i]) ** 2;
      energy += v * v;
    });
  }
  return Math.sqrt(error / energy);
}

const SCHEMES: Record<string, { bitsPerWeight: number; quantize: (group: Float32Array) => Float64Array }> = {
  // Ours (llama.cpp's Q4_0): d = signed extreme / -8, codes 0..15, the extreme exact.
  'q4 signed-extreme/-8 (ours)': { bitsPerWeight: 4.5, quantize: (group) => dequantizeQ4Ref(quantizeQ4Ref(group, 1, 32), 1, 32) },
  // Plain symmetric: d = absmax / 7, codes 1..15 (one code unused).
  'q4 absmax/7': {
    bitsPerWeight: 4.5,
    quantize: (group) => {
      const d = f16(Math.max(...group.map(Math.abs)) / 7);
      return Float64Array.from(group, (v) => (d === 0 ? 0 : Math.max(-7, Math.min(7, Math.round(v / d))) * d));
    },
  },
  // Asymmetric: f16 scale and f16 minimum per group, codes 0..15 over [min, max].
  'q4 asymmetric min/scale': {
    bitsPerWeight: 5,
    quantize: (group) => {
      const min = f16(Math.min(...group));
      const d = f16((Math.max(...group) - min) / 15);
      return Float64Array.from(group, (v) => min + (d === 0 ? 0 : Math.max(0, Math.min(15, Math.round((v - min) / d)))) * d);
    },
  },
};

function random(seed: number): () => number {
  let a = seed;
  return () => ((a = (Math.imul(a, 1664525) + 1013904223) >>> 0) / 4294967296);
}

function sample(kind: 'gaussian' | 'student-t5', count: number, seed: number): Float32Array {
  const rand = random(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  return Float32Array.from({ length: count }, () => {
    if (kind === 'gaussian') return 0.02 * normal();
    // Student-t with 5 degrees of freedom: heavier tails, like trained weight rows with outliers.
    let chi = 0;
    for (let i = 0; i < 5; i++) chi += normal() ** 2;
    return (0.02 * normal()) / Math.sqrt(chi / 5);
  });
}

describe('4-bit scheme', () => {
  it('signed-extreme/-8 beats absmax/7 at the same 4.5 bits per weight', () => {
    const rows: string[] = [];
    const errors: Record<string, Record<string, number>> = {};
    for (const kind of ['gaussian', 'student-t5'] as const) {
      const values = sample(kind, 1 << 18, 7);
      for (const [name, scheme] of Object.entries(SCHEMES)) {
        const error = schemeError(values, scheme.quantize);
        (errors[name] ??= {})[kind] = error;
        rows.push(`${kind.padEnd(10)} ${name.padEnd(30)} ${scheme.bitsPerWeight} bits/weight  relative RMS error ${error.toFixed(4)}`);
      }
    }
    console.log(rows.join('\n'));
    for (const kind of ['gaussian', 'student-t5']) {
      expect(errors['q4 signed-extreme/-8 (ours)'][kind]).toBeLessThan(errors['q4 absmax/7'][kind]);
    }
  });
});

describe('q4 model against f32', () => {
  // Tiny random models have no structure that quantisation could preserve better than noise,
  // so this is a worst case; the thresholds sit just under what was measured (printed).
  const model = buildTinyModel({ hiddenSize: 128, intermediateSize: 352, numLayers: 2, numHeads: 4, numKvHeads: 2, dtype: 'F16', format: 'safetensors', shards: 1, seed: 31 });
  const tokens = [1, 450, 4996, 17354, 1701, 432, 17204, 975, 278, 17366, 11203, 29889, 31734, 30709, 29871, 13];
  const vocab = 32000;

  async function logits(options: LoadOptions): Promise<Float32Array> {
    const gpuModel = await loadTinyModel(await testGpu(), model, { maxChunk: 32, logitsRows: 32, ...options });
    const values = await gpuModel.logits(tokens);
    gpuModel.dispose();
    return values;
  }

  const compare = (a: Float32Array, b: Float32Array) => compareLogits(a, b, vocab);

  it('q4 logits keep the f32 direction and top-1; an f16 lm_head is measurably closer than q4', async () => {
    const exact = await logits({ dtype: 'f32' });
    const q4 = compare(await logits({ dtype: 'q4' }), exact);
    const q4Head = compare(await logits({ dtype: 'q4', lmHeadFormat: 'q4' }), exact);
    console.log(`q4 (f16 embeddings and lm_head): ${JSON.stringify(q4)}\nq4 with a q4 lm_head too:        ${JSON.stringify(q4Head)}`);
    expect(q4.minCosine).toBeGreaterThan(0.97);
    expect(q4.top1).toBeGreaterThanOrEqual(0.68); // measured 12 of 16 rows; one row of margin
    expect(q4.meanCosine).toBeGreaterThan(q4Head.meanCosine);
  });
});

describe('q4 for a shape whose MLP is not a multiple of 32 wide', () => {
  // intermediate_size 176 (5.5 groups of 32): each layer's down_proj, whose rows are 176 wide,
  // stays f16 while every other layer matrix is q4; the model loads instead of refusing.
  const model = buildTinyModel({ hiddenSize: 128, intermediateSize: 176, numLayers: 2, numHeads: 4, numKvHeads: 2, dtype: 'F16', format: 'torch', shards: 2, seed: 32 });
  const tokens = [1, 450, 4996, 17354, 1701, 432, 17204, 975, 278, 17366, 11203, 29889, 31734, 30709, 29871, 13];

  it('keeps down_proj in f16 and the rest q4, and its logits stay near f32', async () => {
    const gpu = await testGpu();
    const run = async (options: LoadOptions) => {
      const gpuModel = await loadTinyModel(gpu, model, { maxChunk: 32, logitsRows: 32, ...options });
      const values = await gpuModel.logits(tokens);
      const formats = Object.fromEntries(gpuModel.layout.matrices.map((m) => [m.key, m.format]));
      const counts = tensorFormats(gpuModel.layout);
      gpuModel.dispose();
      return { values, formats, counts };
    };
    const exact = await run({ dtype: 'f32' });
    const q4 = await run({ dtype: 'q4' });
    expect(q4.formats).toMatchObject({ embed: 'f16', lm_head: 'f16', 'layers.0.qkv': 'q4', 'layers.0.o': 'q4', 'layers.0.gate_up': 'q4', 'layers.0.down': 'f16', 'layers.1.down': 'f16' });
    // 2 layers x 7 tensors + embedding + lm_head; not q4: the two tables and the two down_proj.
    expect(q4.counts).toEqual({ q4: 12, f16: 4 });
    const closeness = compareLogits(q4.values, exact.values, 32000);
    console.log(`q4 with f16 down_proj (I = 176): ${JSON.stringify(closeness)}`);
    expect(closeness.minCosine).toBeGreaterThan(0.97);
    expect(closeness.top1).toBeGreaterThanOrEqual(0.68);
  });
});

