/**
 * Each supported family against the float64 reference (reference.ts), on tiny random repos of
 * odd sizes in hub layout: logits of every position in f32 (the bar LLaMA meets in
 * llama.test.ts), f16 and q4 within LLaMA's tolerances, and greedy ids exactly. What each
 * family adds is on: Llama-3's tied embeddings without an lm_head tensor, llama3 rope scaling and
 * an explicit head_dim; Mistral's sliding window, passed in prefill and in decode; Qwen2's q/k/v
 * biases and a vocabulary padded past its tokenizer (151,936); Qwen3's q/k norms with head_dim
 * not hidden / heads; EXAONE's tensor names.
 */
import { describe, expect, it } from 'vitest';
import { testGpu } from '../gpu/testing';
import { GREEDY, type LlamaModel, type LoadOptions } from './llama';
import { argmaxRows, compareLogits, loadTinyModel, rowRelativeError } from './logit-checks';
import { greedyReference, referenceLogits } from './reference';
import { buildTinyModel, type TinyModel, type TinyModelSpec } from './tiny-model';

const LLAMA3_ROPE = { factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 64 };
/** Qwen2.5's tokenizer holds 151,665 tokens; its lm_head has 151,936 rows. */
const QWEN_TOKENIZER_VOCAB = 151665;

/**
 * One shape for most cases (hidden 96, MLP 232: q4 keeps down_proj f16, 232 not being a
 * multiple of 32), so the pipelines they share compile once; what a family adds is its own.
 */
const SHAPE = { hiddenSize: 96, intermediateSize: 232, numLayers: 2, numHeads: 6, numKvHeads: 2, vocabSize: 1531, dtype: 'BF16', format: 'safetensors', shards: 2 } as const;

interface FamilyCase {
  spec: TinyModelSpec;
  /** Positions whose logits are checked (the greedy run's prompt is the first 6, or 70 for Mistral). */
  tokens: number;
  prompt: number;
  /** The tokenizer's vocabulary, where it is smaller than the model's. */
  vocabLimit?: number;
}

const CASES: [string, FamilyCase][] = [
  [
    'Llama-3 (tied embeddings without lm_head, rope llama3, explicit head_dim)',
    { spec: { ...SHAPE, family: 'llama', headDim: 16, tieWordEmbeddings: true, ropeTheta: 500000, ropeScaling: LLAMA3_ROPE, rmsNormEps: 1e-5, seed: 41, bosTokenId: 128000, eosTokenId: [128001, 128009] }, tokens: 17, prompt: 6 },
  ],
  [
    // 75 positions: prefill and decode past the window, decode attention over two key chunks of 64.
    'Mistral (sliding window 67, passed in prefill and decode)',
    { spec: { ...SHAPE, family: 'mistral', slidingWindow: 67, seed: 42 }, tokens: 75, prompt: 70 },
  ],
  [
    'Qwen2 (q/k/v biases, tied, vocabulary 151,936 padded past the tokenizer)',
    { spec: { ...SHAPE, family: 'qwen2', vocabSize: 151936, tieWordEmbeddings: true, ropeTheta: 1e6, paddedRows: { from: QWEN_TOKENIZER_VOCAB, scale: 12 }, seed: 43 }, tokens: 9, prompt: 6, vocabLimit: QWEN_TOKENIZER_VOCAB },
  ],
  [
    'Qwen3 (q/k norm, head_dim 24 with hidden 96 and 6 heads)',
    { spec: { ...SHAPE, family: 'qwen3', headDim: 24, tieWordEmbeddings: true, ropeTheta: 1e6, shards: 1, seed: 44 }, tokens: 17, prompt: 6 },
  ],
  [
    'EXAONE (transformer.h.N names, rope llama3, own lm_head)',
    { spec: { ...SHAPE, family: 'exaone', numKvHeads: 1, headDim: 16, ropeTheta: 1e6, ropeScaling: LLAMA3_ROPE, rmsNormEps: 1e-5, seed: 45 }, tokens: 17, prompt: 6 },
  ],
];

const load = async (model: TinyModel, options: LoadOptions): Promise<LlamaModel> => loadTinyModel(await testGpu(), model, options);

/** Ids spread over the vocabulary (odd strides, so every family sees different rows). */
function tokensFor(vocab: number, count: number, limit = vocab): number[] {
  return Array.from({ length: count }, (_, i) => (7 + i * 7919 + i * i * 104729) % limit);
}

async function greedyOnGpu(model: LlamaModel, prompt: number[], steps: number): Promise<number[]> {
  model.setSeenTokens(prompt);
  const generated = [await model.prefill(prompt, 0, GREEDY)];
  for (let i = 1; i < steps; i++) generated.push(await model.decode(prompt.length + i - 1, GREEDY));
  return generated;
}

describe.each(CASES)('%s', (_, { spec, tokens: count, prompt: promptLength, vocabLimit }) => {
  const model = buildTinyModel(spec);
  const vocab = model.config.vocabSize;
  const tokens = tokensFor(vocab, count, vocabLimit);
  let computed: Float64Array | undefined;
  const expected = () => (computed ??= referenceLogits(model.config, model.weights, tokens));
  let f32Logits: Float32Array | undefined;

  // The bar of llama.test.ts: f32 against float64 within 1e-4 of each row's scale. Chunks of 4
  // run the batched GEMV and every position past the first chunk reads the cache (the tiled
  // matmul is the same code for every family: llama.test.ts); one-token steps are the greedy
  // run's, with the default decode kernels.
  it('logits of every position match the float64 reference within 1e-4 (f32), and greedy ids exactly', async () => {
    const gpuModel = await load(model, { dtype: 'f32', maxChunk: 4, logitsRows: 4, vocabLimit });
    f32Logits = await gpuModel.logits(tokens);
    const error = rowRelativeError(f32Logits, expected(), vocab);
    console.log(`${spec.family}: f32 max relative logit error ${error.toExponential(2)}`);
    expect(f32Logits.length).toBe(tokens.length * vocab);
    expect(error).toBeLessThan(1e-4);
    expect(argmaxRows(f32Logits, vocab)).toEqual(argmaxRows(expected(), vocab));

    const prompt = tokens.slice(0, promptLength);
    const reference = greedyReference(model.config, model.weights, prompt, 8, [], vocabLimit);
    expect(await greedyOnGpu(gpuModel, prompt, 8)).toEqual(reference);
    gpuModel.dispose();
  });

  // llama.test.ts's f16 bar: the f16 KV cache rounds k and v to 2^-11, measured 3-4e-4 of the
  // logit scale through 2-3 layers; 2e-3 leaves room, a wrong element would be O(1).
  it('f16 weights and KV cache stay within 2e-3 of the float64 logits, same argmax', async () => {
    const gpuModel = await load(model, { dtype: 'f16', maxChunk: 4, logitsRows: 4 });
    const logits = await gpuModel.logits(tokens);
    gpuModel.dispose();
    const error = rowRelativeError(logits, expected(), vocab);
    console.log(`${spec.family}: f16 max relative logit error ${error.toExponential(2)}`);
    expect(error).toBeLessThan(2e-3);
    expect(argmaxRows(logits, vocab)).toEqual(argmaxRows(expected(), vocab));
  });

  // quantize.test.ts's q4 bar (a cosine of 0.97 to f32, top-1 on 68% of rows): random tiny
  // models are the worst case for 4 bits. Their tables are small: f16, as LLaMA's (weights.ts).
  it('q4 logits keep the f32 direction (cosine > 0.97) and top-1 on most rows', async () => {
    const gpuModel = await load(model, { dtype: 'q4', maxChunk: 4, logitsRows: 4 });
    const logits = await gpuModel.logits(tokens);
    const formats = Object.fromEntries(gpuModel.layout.matrices.map((m) => [m.key, m.format]));
    gpuModel.dispose();
    const closeness = compareLogits(logits, f32Logits ?? Float32Array.from(expected()), vocab);
    console.log(`${spec.family}: q4 against f32 ${JSON.stringify(closeness)}`);
    expect(formats).toMatchObject({ embed: 'f16', 'layers.0.qkv': 'q4', 'layers.0.gate_up': 'q4', 'layers.0.down': 'f16' });
    expect(closeness.minCosine).toBeGreaterThan(0.97);
    expect(closeness.top1).toBeGreaterThanOrEqual(0.68);
  });
});

describe('the sliding window in the reference', () => {
  const model = buildTinyModel({ ...SHAPE, family: 'mistral', slidingWindow: 67, seed: 42 });

  it('changes nothing up to the window and the logits after it', () => {
    const tokens = tokensFor(1531, 70);
    const windowed = referenceLogits(model.config, model.weights, tokens);
    const full = referenceLogits({ ...model.config, layerWindows: undefined }, model.weights, tokens);
    const maxDifference = (from: number, to: number) => windowed.subarray(from * 1531, to * 1531).reduce((worst, value, i) => Math.max(worst, Math.abs(value - full[from * 1531 + i])), 0);
    expect(maxDifference(0, 67)).toBe(0);
    expect(maxDifference(67, 70)).toBeGreaterThan(1e-2);
  });
});
