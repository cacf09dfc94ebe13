import { describe, expect, it } from 'vitest';
import { attentionRef, rmsnormRef, ropeRef, siluRef } from '../model/reference';
import { ropeTable } from '../model/rope';
import { f16BitsToF32, f32ToF16Bits } from '../loader/dtype';
import { ATTENTION_CHUNK, attentionOp, attentionPartialsBytes, ropeKvOp, type PrefillAttention } from './attention-op';
import { CountingPass, rmsnormOp, swigluOp } from './ops';
import type { KvFormat } from './shaders';
import { gpuBuffer, poisoned, randomNormal, readF32, readU32, relativeError, run, runAt, seededRandom, stepBuffer, testGpu, type TestGpu } from './testing';

describe('rmsnorm', () => {
  // One f32 sum of squares over DIM terms and a hardware inverseSqrt (WGSL: 2 ulp): ~1e-6.
  const TOLERANCE = 1e-5;
  it.each([
    [3, 200, 1e-6, false],
    [5, 1000, 1e-5, false],
    [4, 72, 1e-6, true],
  ])('T=%i DIM=%i eps=%f lastRowOnly=%s', async (t, dim, eps, lastRowOnly) => {
    const g = await testGpu();
    const random = seededRandom(dim);
    const x = randomNormal(random, t * dim, 3);
    const gain = randomNormal(random, dim);
    const y = gpuBuffer(g, 'y', poisoned((lastRowOnly ? 1 : t) * dim));
    const op = await rmsnormOp(g, {
      label: 'norm', step: stepBuffer(g, { nTokens: t, pos0: 0 }), x: gpuBuffer(g, 'x', x), gain: gpuBuffer(g, 'gain', gain), y, dim, eps, lastRowOnly,
    });
    run(g, t, op);
    let expected = rmsnormRef(Float64Array.from(x), Float64Array.from(gain), t, dim, eps);
    if (lastRowOnly) expected = expected.slice((t - 1) * dim);
    expect(relativeError(await readF32(g, y), expected)).toBeLessThan(TOLERANCE);
  });
});

describe('swiglu', () => {
  it('h = silu(gate) * up at odd sizes, large |gate| included', async () => {
    const g = await testGpu();
    const [t, inter] = [3, 333];
    const gateUp = randomNormal(seededRandom(5), t * 2 * inter, 4);
    gateUp[0] = -200; // exp(200) overflows f32: the kernel must still give -0, not NaN
    gateUp[1] = 200;
    const h = gpuBuffer(g, 'h', poisoned(t * inter));
    const op = await swigluOp(g, { label: 'swiglu', step: stepBuffer(g, { nTokens: t, pos0: 0 }), gateUp: gpuBuffer(g, 'gate_up', gateUp), h, inter });
    run(g, t, op);
    const expected = new Float64Array(t * inter);
    for (let i = 0; i < t; i++) {
      for (let j = 0; j < inter; j++) expected[i * inter + j] = siluRef(gateUp[i * 2 * inter + j]) * gateUp[i * 2 * inter + inter + j];
    }
    // exp and a division in f32: a few ulp per element.
    expect(relativeError(await readF32(g, h), expected)).toBeLessThan(1e-6);
  });
});

describe('rope_kv + attention', () => {
  // Scores are f32 dot products over HEAD_DIM terms and the softmax an online f32 one over
  // <= 140 keys; RoPE uses the f32-rounded float64 table. Together ~1e-6 relative. The
  // attention reference reads the cache the kernel wrote (decoded), so the same bound holds for
  // an f16 cache; the f16 store itself is checked against the float64 rows at f16's rounding,
  // 2^-11 relative per element (max error over the max magnitude stays below that).
  const TOLERANCE = 1e-5;
  const F16_STORE_TOLERANCE = 2 ** -11;

  // The cache as the GPU holds it (f32, or f16 two per u32: element 2i in the low half, as
  // pack2x16float puts it, which is little-endian u16 order), and back as float64. NaN poison
  // stays NaN through f32ToF16Bits.
  const encodeCache = (values: Float32Array, format: KvFormat): Float32Array | Uint32Array =>
    format === 'f32' ? values : new Uint32Array(Uint16Array.from(values, f32ToF16Bits).buffer);
  const decodeCache = (data: Float32Array | Uint32Array, format: KvFormat, count: number): Float64Array =>
    format === 'f32' ? Float64Array.from(data.subarray(0, count)) : Float64Array.from(new Uint16Array(data.buffer, data.byteOffset, count), f16BitsToF32);
  const readCache = async (g: TestGpu, buffer: GPUBuffer, format: KvFormat, count: number): Promise<Float64Array> =>
    decodeCache(format === 'f32' ? await readF32(g, buffer) : await readU32(g, buffer), format, count);

  it.each<[number, number, number, number, number, KvFormat, PrefillAttention?]>([
    // nHeads, nKvHeads, headDim, pos0, T, KV cache, prefill kernel (attention_prefill.wgsl by default)
    [4, 4, 32, 0, 5, 'f32'], // MHA prefill from an empty cache
    [6, 2, 20, 0, 67, 'f32'], // GQA prefill spanning two key tiles and five query blocks
    [6, 2, 20, 0, 67, 'f32', 'row'], // the same, one query a workgroup (attention.wgsl)
    [4, 2, 36, 70, 33, 'f16'], // 33 queries after a 70-token context: the last block partial
    [3, 1, 160, 3, 9, 'f16', 'row'],
    [6, 2, 20, 70, 1, 'f32'], // GQA decode after a 70-token context: split-K over 2 key chunks
    [4, 1, 132, 300, 1, 'f32'], // decode over 5 key chunks, head dim 132 (2 dim pairs per thread)
    [4, 4, 32, 10, 1, 'f32'], // decode within one chunk: written directly, no merge
    [3, 1, 160, 3, 9, 'f32'], // multi-query, head dim > workgroup: 2 dim pairs per thread
    [6, 2, 20, 0, 67, 'f16'], // the same at an f16 cache: GQA prefill over two tiles
    [4, 1, 132, 300, 1, 'f16'], // split-K decode over 5 chunks
    [3, 1, 160, 3, 9, 'f16'], // prefill after a context, head dim > workgroup
  ])('H=%i Hkv=%i hd=%i pos0=%i T=%i, %s cache %s', async (nHeads, nKvHeads, headDim, pos0, t, kvFormat, prefill) => {
    const g = await testGpu();
    const random = seededRandom(nHeads * 1000 + pos0 * 10 + t);
    const maxSeq = pos0 + t + 3;
    const qDim = nHeads * headDim;
    const kvDim = nKvHeads * headDim;
    const theta = 10000;
    const qkv = randomNormal(random, t * (qDim + 2 * kvDim));
    // Rows before pos0 hold an earlier context; rows after the chunk are poison that must stay unread.
    const kCache = poisoned(maxSeq * kvDim);
    const vCache = poisoned(maxSeq * kvDim);
    kCache.set(randomNormal(random, pos0 * kvDim));
    vCache.set(randomNormal(random, pos0 * kvDim));
    const step = stepBuffer(g, { nTokens: t, pos0 });
    const [kEncoded, vEncoded] = [encodeCache(kCache, kvFormat), encodeCache(vCache, kvFormat)];
    const kBuffer = gpuBuffer(g, 'k cache', kEncoded);
    const vBuffer = gpuBuffer(g, 'v cache', vEncoded);
    const q = gpuBuffer(g, 'q', poisoned(t * qDim));
    const out = gpuBuffer(g, 'out', poisoned(t * qDim));
    const shape = { nHeads, nKvHeads, headDim };
    const rope = gpuBuffer(g, 'rope', ropeTable(headDim, maxSeq, theta));
    const ropeKv = await ropeKvOp(g, { label: 'rope', ...shape, step, qkv: gpuBuffer(g, 'qkv', qkv), rope, q, kCache: kBuffer, vCache: vBuffer, kvFormat });
    const partials = gpuBuffer(g, 'partials', poisoned(attentionPartialsBytes(shape, maxSeq) / 4));
    const attention = await attentionOp(g, { label: 'attention', ...shape, step, q, kCache: kBuffer, vCache: vBuffer, kvFormat, out, partials, maxSeq, prefill });
    runAt(g, t, pos0, ropeKv, attention);

    const qRef = new Float64Array(t * qDim);
    // The earlier context as stored, then the chunk's rows in float64.
    const withContext = (encoded: Float32Array | Uint32Array) => {
      const rows = new Float64Array((pos0 + t) * kvDim);
      rows.set(decodeCache(encoded, kvFormat, pos0 * kvDim));
      return rows;
    };
    const kRef = withContext(kEncoded);
    const vRef = withContext(vEncoded);
    for (let i = 0; i < t; i++) {
      const row = i * (qDim + 2 * kvDim);
      qRef.set(qkv.subarray(row, row + qDim), i * qDim);
      kRef.set(qkv.subarray(row + qDim, row + qDim + kvDim), (pos0 + i) * kvDim);
      vRef.set(qkv.subarray(row + qDim + kvDim, row + qDim + 2 * kvDim), (pos0 + i) * kvDim);
      for (let h = 0; h < nHeads; h++) ropeRef(qRef, i * qDim + h * headDim, headDim, pos0 + i, theta);
      for (let h = 0; h < nKvHeads; h++) ropeRef(kRef, (pos0 + i) * kvDim + h * headDim, headDim, pos0 + i, theta);
    }
    expect(relativeError(await readF32(g, q), qRef)).toBeLessThan(TOLERANCE);
    const [kAll, vGpu] = [await readCache(g, kBuffer, kvFormat, maxSeq * kvDim), await readCache(g, vBuffer, kvFormat, (pos0 + t) * kvDim)];
    const kGpu = kAll.subarray(0, (pos0 + t) * kvDim);
    if (kvFormat === 'f32') {
      expect(relativeError(kGpu, kRef)).toBeLessThan(TOLERANCE);
      expect(relativeError(vGpu, vRef)).toBe(0);
    } else {
      expect(relativeError(kGpu, kRef)).toBeLessThan(F16_STORE_TOLERANCE);
      expect(relativeError(kGpu, kRef)).toBeGreaterThan(0); // the rows really went through f16
      expect(relativeError(vGpu, vRef)).toBeLessThan(F16_STORE_TOLERANCE);
    }
    // The rows after the chunk stay poison: the store wrote exactly its rows.
    expect(kAll.subarray((pos0 + t) * kvDim).every(Number.isNaN)).toBe(true);
    const expected = attentionRef(qRef, kGpu, vGpu, t, pos0, nHeads, nKvHeads, headDim);
    expect(relativeError(await readF32(g, out), expected)).toBeLessThan(TOLERANCE);
  });

  // A decode step with RoPE and the cache store fused into split-K attention
  // (attention_decode.wgsl FUSED): from the qkv GEMV's raw output, one dispatch while the keys
  // fit one chunk (ATTENTION_CHUNK, written directly) and a merge beyond (up to 601 keys here:
  // the f32 softmax sums stay near 1e-6 relative, as above).
  it.each<[number, number, number, number, KvFormat, number]>([
    // nHeads, nKvHeads, headDim, pos0, KV cache, dispatches
    [4, 4, 32, 0, 'f32', 1], // the first token: one key, its own
    [6, 2, 20, 40, 'f32', 1], // GQA groups of 3 (only the first query head writes the cache)
    [5, 5, 36, ATTENTION_CHUNK - 1, 'f32', 1], // a full chunk: the most one pass takes
    [5, 5, 36, ATTENTION_CHUNK, 'f32', 2], // one key past it: two chunks, then the merge
    [8, 1, 132, 300, 'f16', 2], // a group of 8, two dim pairs per thread
    [4, 2, 64, 600, 'f16', 2], // ten chunks, the new key in the last (partial) one
    [9, 1, 16, 40, 'f16', 1], // a group of 9
  ])('fused decode: H=%i Hkv=%i hd=%i pos0=%i, %s cache (%i dispatches)', async (nHeads, nKvHeads, headDim, pos0, kvFormat, dispatches) => {
    const g = await testGpu();
    const random = seededRandom(7000 + nHeads * 100 + pos0);
    const maxSeq = pos0 + 4;
    const qDim = nHeads * headDim;
    const kvDim = nKvHeads * headDim;
    const theta = 10000;
    const qkv = randomNormal(random, qDim + 2 * kvDim);
    // Rows before pos0 hold the context; row pos0 and after are poison the step must overwrite
    // (pos0) or leave unread (after).
    const kCache = poisoned(maxSeq * kvDim);
    const vCache = poisoned(maxSeq * kvDim);
    kCache.set(randomNormal(random, pos0 * kvDim));
    vCache.set(randomNormal(random, pos0 * kvDim));
    const [kEncoded, vEncoded] = [encodeCache(kCache, kvFormat), encodeCache(vCache, kvFormat)];
    const kBuffer = gpuBuffer(g, 'k cache', kEncoded);
    const vBuffer = gpuBuffer(g, 'v cache', vEncoded);
    const out = gpuBuffer(g, 'out', poisoned(qDim));
    const shape = { nHeads, nKvHeads, headDim };
    const fusedDecode = { qkv: gpuBuffer(g, 'qkv', qkv), rope: gpuBuffer(g, 'rope', ropeTable(headDim, maxSeq, theta)) };
    const partials = gpuBuffer(g, 'partials', poisoned(attentionPartialsBytes(shape, maxSeq) / 4));
    const q = gpuBuffer(g, 'q (unused when fused)', poisoned(qDim));
    const step = stepBuffer(g, { nTokens: 1, pos0 });
    const attention = await attentionOp(g, { label: 'fused', ...shape, step, q, kCache: kBuffer, vCache: vBuffer, kvFormat, out, partials, maxSeq, fusedDecode });
    const counted = new CountingPass({ setPipeline() {}, setBindGroup() {}, dispatchWorkgroups() {} });
    attention.encode(counted, 1, pos0);
    expect(counted.dispatches).toBe(dispatches);
    runAt(g, 1, pos0, attention);

    const qRef = Float64Array.from(qkv.subarray(0, qDim));
    const kRow = Float64Array.from(qkv.subarray(qDim, qDim + kvDim));
    for (let h = 0; h < nHeads; h++) ropeRef(qRef, h * headDim, headDim, pos0, theta);
    for (let h = 0; h < nKvHeads; h++) ropeRef(kRow, h * headDim, headDim, pos0, theta);
    const vRow = Float64Array.from(qkv.subarray(qDim + kvDim));
    const [kAll, vAll] = [await readCache(g, kBuffer, kvFormat, maxSeq * kvDim), await readCache(g, vBuffer, kvFormat, maxSeq * kvDim)];
    const rowError = kvFormat === 'f32' ? TOLERANCE : F16_STORE_TOLERANCE;
    expect(relativeError(kAll.subarray(pos0 * kvDim, (pos0 + 1) * kvDim), kRow)).toBeLessThan(rowError);
    const vError = relativeError(vAll.subarray(pos0 * kvDim, (pos0 + 1) * kvDim), vRow);
    if (kvFormat === 'f32') expect(vError).toBe(0); // v is copied as is
    else expect(vError).toBeLessThan(rowError);
    expect(kAll.subarray((pos0 + 1) * kvDim).every(Number.isNaN)).toBe(true); // nothing past pos0 written
    expect(vAll.subarray((pos0 + 1) * kvDim).every(Number.isNaN)).toBe(true);
    const expected = attentionRef(qRef, kAll.subarray(0, (pos0 + 1) * kvDim), vAll.subarray(0, (pos0 + 1) * kvDim), 1, pos0, nHeads, nKvHeads, headDim);
    expect(relativeError(await readF32(g, out), expected)).toBeLessThan(TOLERANCE);
  });
});
