import { describe, expect, it } from 'vitest';
import { testGpu } from '../gpu/testing';
import { allFused, GREEDY, type KernelChoice, type LlamaModel, type LoadOptions } from './llama';
import { ATTENTION_CHUNK } from '../gpu/attention-op';
import { argmaxRows, compareLogits, loadTinyModel, rowRelativeError } from './logit-checks';
import { greedyReference, referenceLogits } from './reference';
import { buildTinyModel, type TinyModel, type TinyModelSpec } from './tiny-model';

const load = async (model: TinyModel, options: LoadOptions): Promise<LlamaModel> => loadTinyModel(await testGpu(), model, options);

const MHA: TinyModelSpec = { hiddenSize: 64, intermediateSize: 160, numLayers: 2, numHeads: 4, numKvHeads: 4, dtype: 'F16', format: 'safetensors', shards: 1, seed: 11 };
const GQA: TinyModelSpec = { hiddenSize: 96, intermediateSize: 256, numLayers: 3, numHeads: 6, numKvHeads: 2, dtype: 'BF16', format: 'safetensors', shards: 3, seed: 12 };
const TOKENS = [1, 450, 4996, 17354, 1701, 432, 17204, 975, 278, 17366, 11203, 29889, 31734, 30709, 29871, 13, 2];

describe.each([
  ['MHA, F16, one file', MHA],
  ['GQA, BF16, 3 shards', GQA],
])('forward pass (%s)', (_, spec) => {
  const model = buildTinyModel(spec);
  const vocab = model.config.vocabSize;
  const expected = referenceLogits(model.config, model.weights, TOKENS);

  // f32 weights and activations against float64: each matmul accumulates <= 256 f32 terms and
  // the model is 2-3 layers deep, so errors stay near 1e-6 of the logit scale; 1e-4 is the
  // issue's bar and leaves room for SwiftShader's transcendental functions.
  // maxChunk 1 runs every position as a one-token step: the fused decode kernels (norms in the
  // GEMVs, RoPE and the cache store in attention, SwiGLU in gate_up).
  it('logits of every position match the float64 reference within 1e-4 (f32), chunked prefill and one-token steps too', async () => {
    for (const maxChunk of [64, 5, 1]) {
      const gpuModel = await load(model, { dtype: 'f32', maxChunk, logitsRows: maxChunk });
      const logits = await gpuModel.logits(TOKENS);
      gpuModel.dispose();
      const error = rowRelativeError(logits, expected, vocab);
      console.log(`${spec.numHeads}/${spec.numKvHeads} heads, ${spec.dtype}, chunk ${maxChunk}: max relative logit error ${error.toExponential(2)}`);
      expect(error).toBeLessThan(1e-4);
      expect(argmaxRows(logits, vocab)).toEqual(argmaxRows(expected, vocab));
    }
  });

  // A 16-bit checkpoint converts to f16 without loss here (bf16 values within f16's range are
  // exact in f16), so f16 weights with an f32 KV cache differ from f32 mode by nothing at all.
  it('f16 storage gives the same logits as f32 within 1e-4 (f32 KV cache)', async () => {
    const gpuModel = await load(model, { dtype: 'f16', kvFormat: 'f32', maxChunk: 64, logitsRows: 64 });
    const logits = await gpuModel.logits(TOKENS);
    gpuModel.dispose();
    expect(rowRelativeError(logits, expected, vocab)).toBeLessThan(1e-4);
  });

  // f16's default KV cache rounds every k and v element to f16 (2^-11 = 4.9e-4 relative);
  // through the softmax and 2-3 layers that measured 3.2e-4 (MHA) and 4.2e-4 (GQA) of the logit
  // scale. 2e-3 leaves room for other seeds; one wrong element or row would be off by O(1).
  it('f16 storage with its f16 KV cache stays within 2e-3 of the float64 logits, same argmax', async () => {
    const gpuModel = await load(model, { dtype: 'f16', maxChunk: 64, logitsRows: 64 });
    expect(gpuModel.shape.kvFormat).toBe('f16');
    const logits = await gpuModel.logits(TOKENS);
    gpuModel.dispose();
    const error = rowRelativeError(logits, expected, vocab);
    console.log(`${spec.numHeads}/${spec.numKvHeads} heads, f16 weights and KV cache: max relative logit error ${error.toExponential(2)}`);
    expect(error).toBeLessThan(2e-3);
    expect(error).toBeGreaterThan(0); // the cache really rounds
    expect(argmaxRows(logits, vocab)).toEqual(argmaxRows(expected, vocab));
  });

  // int8 activations (one scale per 32) add ~0.4% relative error to each q4 GEMV; through 2-3
  // layers the logits stay within a cosine of 1e-3 of the f32-dequantising kernel's, which
  // itself sits at ~0.98 of f32 (q4 weights, docs/quantization.md).
  it('q4 one-token steps: the int8 dot-product GEMV agrees with the f32 one', async () => {
    const logitsWith = async (q4Gemv: 'dot' | 'f32') => {
      const gpuModel = await load(model, { dtype: 'q4', maxChunk: 1, logitsRows: 1, kernelChoice: { q4Gemv } });
      const logits = await gpuModel.logits(TOKENS);
      gpuModel.dispose();
      return logits;
    };
    const { minCosine, top1 } = compareLogits(await logitsWith('dot'), await logitsWith('f32'), vocab);
    console.log(`${spec.numHeads}/${spec.numKvHeads} heads, q4 int8-dot vs f32 GEMV: min cosine ${minCosine.toFixed(6)}, top-1 agreement ${top1}`);
    expect(minCosine).toBeGreaterThan(0.999);
  });

  it('a decode step encodes 3 + 5 dispatches a layer (6 past one attention chunk), 4 + 9 (10) unfused; one submit', async () => {
    const layers = spec.numLayers;
    for (const [fused, short, long] of [[true, 3 + 5 * layers, 3 + 6 * layers], [false, 4 + 9 * layers, 4 + 10 * layers]] as const) {
      const gpuModel = await load(model, { dtype: 'f32', maxChunk: 8, contextLength: 300, kernelChoice: allFused(fused) });
      await gpuModel.prefill(TOKENS.slice(0, 3), 0, GREEDY);
      await gpuModel.decode(3, GREEDY);
      expect(gpuModel.dispatchesPerDecode).toBe(short);
      expect(gpuModel.countDecodeDispatches(3)).toBe(short);
      expect(gpuModel.countDecodeDispatches(ATTENTION_CHUNK - 1)).toBe(short);
      expect(gpuModel.countDecodeDispatches(ATTENTION_CHUNK)).toBe(long);
      gpuModel.dispose();
    }
  });

  // Each fusion alone too: the benchmark's variants switch them one by one.
  it.each<[string, Partial<KernelChoice>]>([
    ['none', allFused(false)],
    ['all', allFused(true)],
    ['norms', { ...allFused(false), fuseNorms: true }],
    ['attention', { ...allFused(false), fuseAttention: true }],
    ['SwiGLU', { ...allFused(false), fuseSwiglu: true }],
  ])('greedy generation through the KV cache reproduces the reference ids exactly (golden; fused decode kernels: %s)', async (_, kernelChoice) => {
    const prompt = TOKENS.slice(0, 6);
    const steps = 8;
    const reference = greedyReference(model.config, model.weights, prompt, steps);
    const gpuModel = await load(model, { dtype: 'f32', maxChunk: 4, kernelChoice });
    gpuModel.setSeenTokens(prompt);
    const generated = [await gpuModel.prefill(prompt, 0, GREEDY)];
    for (let i = 1; i < steps; i++) generated.push(await gpuModel.decode(prompt.length + i - 1, GREEDY));
    gpuModel.dispose();
    expect(generated).toEqual(reference);
  });
});
