import { describe, expect, it } from 'vitest';
import { f16BitsToF32, f32ToF16Bits } from '../loader/dtype';
import { dequantizeQ4Ref, quantizeQ4Ref } from '../model/quantize-ref';
import { linearRef, rmsnormRef, siluRef } from '../model/reference';
import { Uploader } from '../model/upload';
import { linearOp } from './linear-op';
import { embeddingOp, weightBindGroup } from './ops';
import { PipelineCache } from './pipelines';
import type { WeightFormat } from './shaders';
import { emptyBuffer, gpuBuffer, poisoned, randomNormal, readF32, readU32, relativeError, run, seededRandom, stepBuffer, testGpu } from './testing';

// Both kernels accumulate in f32 against a float64 reference computed on exactly the values the
// GPU holds (f16-rounded or q4-dequantised), so the only error is f32 rounding over K <= 264
// terms: ~K * 2^-24 ~ 2e-5 worst case relative to the largest output, typically far less.
const TOLERANCE = 2e-5;

/** The exact values the GPU holds for `values` stored in `format`. */
async function uploadMatrix(format: WeightFormat, values: Float32Array, rows: number, cols: number) {
  const t = await testGpu();
  const uploader = new Uploader(t);
  const matrix = uploader.createMatrix(`w ${format}`, format, rows, cols);
  await uploader.writeRows(matrix, 0, rows, 'F32', new Uint8Array(values.buffer));
  await uploader.finish();
  let held: Float64Array;
  if (format === 'f32') held = Float64Array.from(values);
  else if (format === 'f16') held = Float64Array.from(values, (v) => f16BitsToF32(f32ToF16Bits(v)));
  else {
    const codes = await readU32(t, matrix.buffers[0]);
    const scales = await readU32(t, matrix.buffers[1]);
    held = dequantizeQ4Ref({ codes, scales }, rows, cols);
  }
  return { matrix, held };
}

describe.each<[WeightFormat, number]>([
  ['f32', 200],
  ['f16', 264],
  ['q4', 96],
  ['q4', 160],
])('linear %s, K=%i', (format, cols) => {
  const rows = 131;
  // M=1 is the decode GEMV (reduced with subgroups here, and with the portable workgroup
  // reduction); M<=8 the batched GEMV; M>8 the tiled matmul.
  it.each([
    [1, true],
    [1, false],
    [5, true],
    [5, false],
    [70, true],
  ])('M=%i tokens (subgroups %s), plain and accumulating', async (m, subgroups) => {
    const t = { ...(await testGpu()), subgroups };
    const random = seededRandom(1000 * m + cols);
    const w = randomNormal(random, rows * cols, 0.5);
    const x = randomNormal(random, m * cols);
    const bias = randomNormal(random, m * rows);
    const { matrix, held } = await uploadMatrix(format, w, rows, cols);
    const step = stepBuffer(t, { nTokens: m, pos0: 0 });
    const xBuffer = gpuBuffer(t, 'x', x);
    const y = gpuBuffer(t, 'y', poisoned(m * rows));
    const yAcc = gpuBuffer(t, 'y acc', bias);
    const plain = await linearOp(t, { label: 'plain', step, x: xBuffer, weight: matrix, y });
    const acc = await linearOp(t, { label: 'acc', step, x: xBuffer, weight: matrix, y: yAcc, accumulate: true });
    run(t, m, plain, acc);
    const expected = linearRef(Float64Array.from(x), held, m, cols, rows);
    expect(relativeError(await readF32(t, y), expected)).toBeLessThan(TOLERANCE);
    const expectedAcc = expected.map((v, i) => v + bias[i]);
    expect(relativeError(await readF32(t, yAcc), expectedAcc)).toBeLessThan(TOLERANCE);
  });

  it.each([true, false])('M=1 with the RMSNorm before it fused in (subgroups %s)', async (subgroups) => {
    const t = { ...(await testGpu()), subgroups };
    const random = seededRandom(77 + cols);
    const { matrix, held } = await uploadMatrix(format, randomNormal(random, rows * cols, 0.5), rows, cols);
    const x = randomNormal(random, cols, 3);
    const gain = randomNormal(random, cols);
    const bias = randomNormal(random, rows);
    const step = stepBuffer(t, { nTokens: 1, pos0: 0 });
    const y = gpuBuffer(t, 'y', bias);
    const norm = { x: gpuBuffer(t, 'x', x), gain: gpuBuffer(t, 'gain', gain), eps: 1e-5 };
    const op = await linearOp(t, { label: 'fused', step, x: gpuBuffer(t, 'unused xn', poisoned(cols)), weight: matrix, y, accumulate: true, norm });
    run(t, 1, op);
    const normed = rmsnormRef(Float64Array.from(x), Float64Array.from(gain), 1, cols, 1e-5);
    const expected = linearRef(normed, held, 1, cols, rows).map((v, i) => v + bias[i]);
    expect(relativeError(await readF32(t, y), expected)).toBeLessThan(TOLERANCE);
  });

  // silu(g) * u of two sums each within TOLERANCE of the largest output: |d(silu(g) u)| <=
  // 1.1 |u| dg + |silu(g)| du, a few TOLERANCE relative to the largest h.
  it('M=1 with the SwiGLU epilogue (rows = gate, then up) and the norm fused in', async () => {
    const t = await testGpu();
    const random = seededRandom(91 + cols);
    const inter = 67;
    const { matrix, held } = await uploadMatrix(format, randomNormal(random, 2 * inter * cols, 0.5), 2 * inter, cols);
    const x = randomNormal(random, cols, 2);
    const gain = randomNormal(random, cols);
    const h = gpuBuffer(t, 'h', poisoned(inter));
    const norm = { x: gpuBuffer(t, 'x', x), gain: gpuBuffer(t, 'gain', gain), eps: 1e-6 };
    const op = await linearOp(t, { label: 'swiglu', step: stepBuffer(t, { nTokens: 1, pos0: 0 }), x: gpuBuffer(t, 'unused', poisoned(cols)), weight: matrix, y: gpuBuffer(t, 'unused y', poisoned(2 * inter)), norm, swigluInto: h });
    run(t, 1, op);
    const gateUp = linearRef(rmsnormRef(Float64Array.from(x), Float64Array.from(gain), 1, cols, 1e-6), held, 1, cols, 2 * inter);
    const expected = Float64Array.from({ length: inter }, (_, j) => siluRef(gateUp[j]) * gateUp[inter + j]);
    expect(relativeError(await readF32(t, h), expected)).toBeLessThan(4 * TOLERANCE);
  });

  it('embedding gathers the rows the ids name', async () => {
    const t = await testGpu();
    const random = seededRandom(cols);
    const { matrix, held } = await uploadMatrix(format, randomNormal(random, rows * cols), rows, cols);
    const ids = [0, 130, 7, 7, 64];
    const x = gpuBuffer(t, 'x', poisoned(ids.length * cols));
    const op = await embeddingOp(t, { label: 'embed', step: stepBuffer(t, { nTokens: ids.length, pos0: 0 }), ids: gpuBuffer(t, 'ids', Uint32Array.from(ids)), table: matrix, x });
    run(t, ids.length, op);
    const expected = new Float64Array(ids.length * cols);
    ids.forEach((id, i) => expected.set(held.subarray(id * cols, (id + 1) * cols), i * cols));
    expect(relativeError(await readF32(t, x), expected)).toBe(0);
  });
});

describe('f16 weights read natively (shader-f16)', () => {
  // Same buffers as the packed path; runs where the adapter has shader-f16 (GPUs; SwiftShader
  // has none, so there this checks that the packed path is what the engine uses).
  it('matches the packed accessor exactly on this adapter', async () => {
    const t = await testGpu();
    const native = t.context.hasShaderF16 ? new PipelineCache(t.device, true) : t.pipelines;
    expect(t.pipelines.shaderF16).toBe(t.context.hasShaderF16);
    const [rows, cols] = [37, 264];
    const { matrix, held } = await uploadMatrix('f16', randomNormal(seededRandom(9), rows * cols), rows, cols);
    const x = randomNormal(seededRandom(10), 3 * cols);
    const step = stepBuffer(t, { nTokens: 3, pos0: 0 });
    const y = gpuBuffer(t, 'y', poisoned(3 * rows));
    const op = await linearOp({ ...t, pipelines: native }, { label: 'native', step, x: gpuBuffer(t, 'x', x), weight: { ...matrix, bindGroup: weightBindGroup({ ...t, pipelines: native }, 'f16', matrix.buffers, 'w') }, y });
    run(t, 3, op);
    expect(relativeError(await readF32(t, y), linearRef(Float64Array.from(x), held, 3, cols, rows))).toBeLessThan(TOLERANCE);
  });
});

describe('upload conversions', () => {
  it('quantize_q4 matches the CPU mirror of the format bit for bit', async () => {
    const t = await testGpu();
    const rows = 29;
    const cols = 224; // 7 groups: the last scale word holds one group
    const values = randomNormal(seededRandom(7), rows * cols, 0.02);
    values[5] = 0.3; // an outlier that sets its group's scale
    values.fill(0, 64, 96); // an all-zero group: scale 0, codes 8
    const uploader = new Uploader(t);
    const matrix = uploader.createMatrix('q', 'q4', rows, cols);
    // Two chunks at a row offset, as large tensors arrive.
    await uploader.writeRows(matrix, 0, 11, 'F32', new Uint8Array(values.buffer, 0, 11 * cols * 4));
    await uploader.writeRows(matrix, 11, rows - 11, 'F32', new Uint8Array(values.buffer, 11 * cols * 4));
    await uploader.finish();
    const expected = quantizeQ4Ref(values, rows, cols);
    expect(Array.from(await readU32(t, matrix.buffers[0]))).toEqual(Array.from(expected.codes));
    expect(Array.from(await readU32(t, matrix.buffers[1], expected.scales.length))).toEqual(Array.from(expected.scales));
  });

  it.each(['F16', 'BF16'] as const)('%s source converts exactly to f32 and f16', async (dtype) => {
    const t = await testGpu();
    const count = 1000;
    const random = seededRandom(3);
    const bits = new Uint16Array(count);
    for (let i = 0; i < count; i++) {
      const v = (random() - 0.5) * 8;
      bits[i] = dtype === 'F16' ? f32ToF16Bits(v) : new Uint16Array(new Float32Array([v]).buffer)[1];
    }
    const values = Array.from(bits, (b) => (dtype === 'F16' ? f16BitsToF32(b) : new Float32Array(new Uint32Array([b << 16]).buffer)[0]));
    const uploader = new Uploader(t);
    const asF32 = emptyBuffer(t, 'f32', count * 4);
    const asF16 = emptyBuffer(t, 'f16', count * 2);
    await uploader.writeElements(asF32, 'f32', 0, dtype, new Uint8Array(bits.buffer));
    await uploader.writeElements(asF16, 'f16', 0, dtype, new Uint8Array(bits.buffer));
    await uploader.finish();
    expect(Array.from(await readF32(t, asF32))).toEqual(values);
    const halves = new Uint16Array((await readU32(t, asF16)).buffer);
    expect(Array.from(halves, f16BitsToF32)).toEqual(values.map((v) => f16BitsToF32(f32ToF16Bits(v))));
  });
});
