/**
 * The kernels only some families run, each against float64 at odd sizes, on the fused qkv rows
 * (T, (heads + 2 kv heads) * headDim) they work on in place: bias_add.wgsl (Qwen2's q/k/v
 * biases) and head_rmsnorm.wgsl (Qwen3's q_norm and k_norm over each head, v untouched).
 */
import { describe, expect, it } from 'vitest';
import { rmsnormRef } from '../model/reference';
import { biasAddOp, headRmsnormOp } from './family-ops';
import { gpuBuffer, randomNormal, readF32, relativeError, run, seededRandom, stepBuffer, testGpu } from './testing';

describe('bias_add', () => {
  it.each([
    [5, 7, 1, 12],
    [1, 3, 3, 4],
    [9, 28, 4, 128],
  ])('T=%i heads=%i kv heads=%i head_dim=%i: every row gains the bias, exactly', async (t, heads, kvHeads, headDim) => {
    const g = await testGpu();
    const dim = (heads + 2 * kvHeads) * headDim;
    const random = seededRandom(dim + t);
    const qkv = randomNormal(random, t * dim, 3);
    const bias = randomNormal(random, dim);
    const y = gpuBuffer(g, 'qkv', qkv);
    run(g, t, await biasAddOp(g, { label: 'bias', step: stepBuffer(g, { nTokens: t, pos0: 0 }), bias: gpuBuffer(g, 'bias', bias), y, dim }));
    // One f32 addition an element: the same rounding as Math.fround.
    const expected = qkv.map((value, i) => Math.fround(value + bias[i % dim]));
    expect(Array.from(await readF32(g, y))).toEqual(Array.from(expected));
  });
});

describe('head_rmsnorm', () => {
  // rmsnorm.wgsl's bar: one f32 sum of squares over head_dim terms and a hardware inverseSqrt
  // (WGSL: 2 ulp), ~1e-6 of each value.
  const TOLERANCE = 1e-5;
  it.each([
    [3, 5, 1, 24, 1e-6],
    [2, 4, 2, 132, 1e-5], // head_dim past the workgroup (64): threads loop
    [4, 16, 8, 128, 1e-6], // Qwen3-0.6B's heads
  ])('T=%i heads=%i kv heads=%i head_dim=%i eps=%f', async (t, heads, kvHeads, headDim, eps) => {
    const g = await testGpu();
    const dim = (heads + 2 * kvHeads) * headDim;
    const random = seededRandom(dim * 3 + t);
    const qkv = randomNormal(random, t * dim, 2);
    const qGain = randomNormal(random, headDim);
    const kGain = randomNormal(random, headDim);
    const buffer = gpuBuffer(g, 'qkv', qkv);
    const op = await headRmsnormOp(g, {
      label: 'q/k norm', step: stepBuffer(g, { nTokens: t, pos0: 0 }), qGain: gpuBuffer(g, 'q gain', qGain), kGain: gpuBuffer(g, 'k gain', kGain), qkv: buffer, nHeads: heads, nKvHeads: kvHeads, headDim, eps,
    });
    run(g, t, op);
    // Each q head with q_norm's gain, each k head with k_norm's; v as it was.
    const expected = Float64Array.from(qkv);
    for (let row = 0; row < t; row++) {
      for (let head = 0; head < heads + kvHeads; head++) {
        const at = row * dim + head * headDim;
        const gain = Float64Array.from(head < heads ? qGain : kGain);
        expected.set(rmsnormRef(Float64Array.from(qkv.subarray(at, at + headDim)), gain, 1, headDim, eps), at);
      }
    }
    const actual = await readF32(g, buffer);
    expect(relativeError(actual, expected)).toBeLessThan(TOLERANCE);
    for (let row = 0; row < t; row++) {
      const v = row * dim + (heads + kvHeads) * headDim;
      expect(Array.from(actual.subarray(v, v + kvHeads * headDim))).toEqual(Array.from(qkv.subarray(v, v + kvHeads * headDim)));
    }
  });
});
