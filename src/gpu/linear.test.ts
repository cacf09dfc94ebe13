import { describe, expect, it } from 'vitest';
import { f16BitsToF32, f32ToF16Bits } from '../loader/dtype';
import { dequantizeQ4Ref, quantizeActivationRef, quantizeQ4Ref } from '../model/quantize-ref';
import { linearRef, rmsnormRef, siluRef } from '../model/reference';
import { Uploader } from '../model/upload';
import { dotWorkgroupBytes, linearOp, type DotTuning, type Matmul } from './linear-op';
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
  // reduction; for q4 the f32 kernel, gemv_q4.wgsl: the int8 one has its own tests below);
  // M<=8 the batched GEMV; M>8 the tiled matmul.
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
    const plain = await linearOp(t, { label: 'plain', step, x: xBuffer, weight: matrix, y, q4Gemv: 'f32' });
    const acc = await linearOp(t, { label: 'acc', step, x: xBuffer, weight: matrix, y: yAcc, accumulate: true, q4Gemv: 'f32' });
    run(t, m, plain, acc);
    const expected = linearRef(Float64Array.from(x), held, m, cols, rows);
    expect(relativeError(await readF32(t, y), expected)).toBeLessThan(TOLERANCE);
    const expectedAcc = expected.map((v, i) => v + bias[i]);
    expect(relativeError(await readF32(t, yAcc), expectedAcc)).toBeLessThan(TOLERANCE);
  });

  // Both prefill matmuls, over partial tiles in M, N (131 rows: two 128-wide tiles for 'reg')
  // and K (not a multiple of 16 for f32 and f16).
  it.each<[Matmul, number]>([
    ['tile', 70],
    ['reg', 70],
    ['reg', 133],
  ])('prefill matmul %s at M=%i, plain and accumulating', async (matmul, m) => {
    const t = await testGpu();
    const random = seededRandom(3000 + m + cols);
    const { matrix, held } = await uploadMatrix(format, randomNormal(random, rows * cols, 0.5), rows, cols);
    const x = randomNormal(random, m * cols);
    const bias = randomNormal(random, m * rows);
    const step = stepBuffer(t, { nTokens: m, pos0: 0 });
    const xBuffer = gpuBuffer(t, 'x', x);
    const y = gpuBuffer(t, 'y', poisoned(m * rows));
    const yAcc = gpuBuffer(t, 'y acc', bias);
    const plain = await linearOp(t, { label: 'plain', step, x: xBuffer, weight: matrix, y, matmul });
    const acc = await linearOp(t, { label: 'acc', step, x: xBuffer, weight: matrix, y: yAcc, accumulate: true, matmul });
    run(t, m, plain, acc);
    const expected = linearRef(Float64Array.from(x), held, m, cols, rows);
    expect(relativeError(await readF32(t, y), expected)).toBeLessThan(TOLERANCE);
    expect(relativeError(await readF32(t, yAcc), expected.map((v, i) => v + bias[i]))).toBeLessThan(TOLERANCE);
  });

  // The matrix-unit matmul rounds x (and q4's dequantised weights) to f16: each product carries
  // ~2^-11 relative error, and over K terms of random sign the sums stay within a few 2^-11 of
  // the largest output. Where the device has no subgroup matrices (SwiftShader) the op must fall
  // back to matmul_reg.wgsl, held to the f32 tolerance.
  it('prefill matmul sgmat: the matrix units for q4 where the device has them, else matmul_reg', async () => {
    const t = await testGpu();
    const m = 77;
    const random = seededRandom(4000 + cols);
    const { matrix, held } = await uploadMatrix(format, randomNormal(random, rows * cols, 0.5), rows, cols);
    const x = randomNormal(random, m * cols);
    const bias = randomNormal(random, m * rows);
    const step = stepBuffer(t, { nTokens: m, pos0: 0 });
    const yAcc = gpuBuffer(t, 'y acc', bias);
    const op = await linearOp(t, { label: 'sgmat', step, x: gpuBuffer(t, 'x', x), weight: matrix, y: yAcc, accumulate: true, matmul: 'sgmat' });
    const onMatrixUnits = format === 'q4' && t.subgroupMatrix !== undefined;
    expect(op.prefillKernel).toBe(onMatrixUnits ? 'matmul_sgmat.wgsl' : 'matmul_reg.wgsl');
    run(t, m, op);
    const expected = linearRef(Float64Array.from(x), held, m, cols, rows).map((v, i) => v + bias[i]);
    expect(relativeError(await readF32(t, yAcc), expected)).toBeLessThan(onMatrixUnits ? 4e-3 : TOLERANCE);
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
    const op = await linearOp(t, { label: 'fused', step, x: gpuBuffer(t, 'unused xn', poisoned(cols)), weight: matrix, y, accumulate: true, norm, q4Gemv: 'f32' });
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
    const op = await linearOp(t, { label: 'swiglu', step: stepBuffer(t, { nTokens: 1, pos0: 0 }), x: gpuBuffer(t, 'unused', poisoned(cols)), weight: matrix, y: gpuBuffer(t, 'unused y', poisoned(2 * inter)), norm, swigluInto: h, q4Gemv: 'f32' });
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

describe('q4 GEMV on int8 dot products (gemv_q4_dot.wgsl)', () => {
  // The kernel quantises x to int8 per group of 32 (quantizeActivationRef mirrors that in float32
  // arithmetic) and sums the products exactly in integers; against float64 on the same int8
  // values only f32 rounding of each group's product and of the sum over groups is left, as for
  // the other GEMVs: TOLERANCE. Against the unquantised x the int8 rounding (half a step, 1/254
  // of a group's largest |x|, per element, random in sign) stays under ~1% of the largest output.
  const INT8_TOLERANCE = 2e-2;
  const rows = 131;

  async function setup(cols: number, seed: number) {
    const random = seededRandom(seed);
    const { matrix, held } = await uploadMatrix('q4', randomNormal(random, rows * cols, 0.5), rows, cols);
    return { random, matrix, held };
  }

  it.each<[number, boolean, DotTuning | undefined]>([
    [96, true, undefined], // 3 groups a row: 2 lanes, more rows a workgroup than rows (clamped)
    [96, false, undefined],
    [1056, true, undefined], // 33 groups over the default lanes
    [1056, false, undefined],
    [352, true, { wg: 64, lanes: 8, rowsPerThread: 3 }], // 24 rows a workgroup, 3 a thread
    [352, false, { wg: 32, lanes: 4, rowsPerThread: 16 }], // 128 rows on 32 threads
    [1056, true, { wg: 256, lanes: 32, rowsPerThread: 4 }], // the GPU default shape
  ])('K=%i (subgroups %s, shape %j): plain and accumulating, against float64', async (cols, subgroups, dotTuning) => {
    const t = { ...(await testGpu()), subgroups };
    expect(t.packedDot).toBe(true); // Dawn's WGSL compiler has the feature; the engine relies on it
    const { random, matrix, held } = await setup(cols, 4000 + cols);
    const x = randomNormal(random, cols);
    const bias = randomNormal(random, rows);
    const step = stepBuffer(t, { nTokens: 1, pos0: 0 });
    const xBuffer = gpuBuffer(t, 'x', x);
    const y = gpuBuffer(t, 'y', poisoned(rows));
    const yAcc = gpuBuffer(t, 'y acc', bias);
    const plain = await linearOp(t, { label: 'plain', step, x: xBuffer, weight: matrix, y, dotTuning });
    const acc = await linearOp(t, { label: 'acc', step, x: xBuffer, weight: matrix, y: yAcc, accumulate: true, dotTuning });
    expect(plain.decodeKernel).toBe('gemv_q4_dot.wgsl');
    run(t, 1, plain, acc);
    const mirrored = linearRef(quantizeActivationRef(x), held, 1, cols, rows);
    const gpu = await readF32(t, y);
    expect(relativeError(gpu, mirrored)).toBeLessThan(TOLERANCE);
    expect(relativeError(gpu, linearRef(Float64Array.from(x), held, 1, cols, rows))).toBeLessThan(INT8_TOLERANCE);
    expect(relativeError(await readF32(t, yAcc), mirrored.map((v, i) => v + bias[i]))).toBeLessThan(TOLERANCE);
  });

  it.each([
    [true, true],
    [false, true],
    [true, false],
  ])('the SwiGLU epilogue, the RMSNorm fused in: %s (subgroups %s)', async (fuseNorm, subgroups) => {
    const t = { ...(await testGpu()), subgroups };
    const cols = 1056;
    const inter = 67;
    const random = seededRandom(5151);
    const { matrix, held } = await uploadMatrix('q4', randomNormal(random, 2 * inter * cols, 0.5), 2 * inter, cols);
    const x = randomNormal(random, cols, 3);
    const gain = randomNormal(random, cols);
    const h = gpuBuffer(t, 'h', poisoned(inter));
    const xBuffer = gpuBuffer(t, 'x', x);
    const norm = fuseNorm ? { x: xBuffer, gain: gpuBuffer(t, 'gain', gain), eps: 1e-5 } : undefined;
    const op = await linearOp(t, { label: 'fused', step: stepBuffer(t, { nTokens: 1, pos0: 0 }), x: fuseNorm ? gpuBuffer(t, 'unused', poisoned(cols)) : xBuffer, weight: matrix, y: gpuBuffer(t, 'unused y', poisoned(2 * inter)), norm, swigluInto: h });
    expect(op.decodeKernel).toBe('gemv_q4_dot.wgsl');
    run(t, 1, op);
    // With the norm, the kernel quantises x * gain and applies 1 / rms(x) to the sums.
    const scaled = fuseNorm ? Float32Array.from(x, (v, i) => v * gain[i]) : x;
    const inverseRms = fuseNorm ? 1 / Math.sqrt(x.reduce((sum, v) => sum + v * v, 0) / cols + 1e-5) : 1;
    const gateUp = linearRef(quantizeActivationRef(scaled), held, 1, cols, 2 * inter).map((v) => v * inverseRms);
    const expected = Float64Array.from({ length: inter }, (_, j) => siluRef(gateUp[j]) * gateUp[inter + j]);
    expect(relativeError(await readF32(t, h), expected)).toBeLessThan(4 * TOLERANCE); // as the f32 kernels' SwiGLU test
  });

  it('falls back to gemv_q4.wgsl without the WGSL feature or the workgroup memory, and shrinks to fit', async () => {
    const t = await testGpu();
    const { matrix } = await setup(1056, 7);
    const args = { label: 'q4', step: stepBuffer(t, { nTokens: 1, pos0: 0 }), x: emptyBuffer(t, 'x', 1056 * 4), weight: matrix, y: emptyBuffer(t, 'y', rows * 4) };
    expect((await linearOp({ ...t, packedDot: false }, args)).decodeKernel).toBe('gemv_q4.wgsl');
    expect((await linearOp({ ...t, maxWorkgroupStorage: 1024 }, args)).decodeKernel).toBe('gemv_q4.wgsl');
    expect((await linearOp(t, { ...args, q4Gemv: 'f32' })).decodeKernel).toBe('gemv_q4.wgsl');
    // 11008-wide rows (LLaMA-7B's down_proj) need ~18 KiB at 256 threads; WebGPU's default
    // limit of 16 KiB still fits the kernel at fewer threads.
    expect(dotWorkgroupBytes(11008, { wg: 256, lanes: 32, rowsPerThread: 4 }, true)).toBeGreaterThan(16384);
    const wide = await setup(11008, 8);
    expect((await linearOp({ ...t, maxWorkgroupStorage: 16384 }, { ...args, weight: wide.matrix })).decodeKernel).toBe('gemv_q4_dot.wgsl');
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
    // Which words differ, not just that some do (the first GPU run found scales rounded apart).
    const differences = (got: Uint32Array, want: Uint32Array) => {
      const at = Array.from(want.keys()).filter((i) => got[i] !== want[i]);
      const hex = (word: number) => `0x${word.toString(16).padStart(8, '0')}`;
      return at.length === 0 ? 'none' : `${at.length} of ${want.length} words, first at ${at[0]}: ${hex(got[at[0]])} for ${hex(want[at[0]])}`;
    };
    expect(differences(await readU32(t, matrix.buffers[1], expected.scales.length), expected.scales)).toBe('none');
    expect(differences(await readU32(t, matrix.buffers[0], expected.codes.length), expected.codes)).toBe('none');
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
