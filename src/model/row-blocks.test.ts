/**
 * Matrices past the device's binding limit are split into row blocks, never refused
 * (gpu/row-blocks.ts, memory-plan.ts). WebGPU cannot lower a real device's limits, so these tests
 * report tiny ones to the engine (withBindingLimit): a tiny model then splits as a 7B model with
 * a 128k vocabulary does on a GPU that binds 128 MiB. Checked against the float64 reference
 * (f32), and bit for bit against the same model unsplit (f16, q4: a block's rows are the very
 * sums the whole matrix computes).
 */
import { describe, expect, it } from 'vitest';
import { testGpu, withBindingLimit } from '../gpu/testing';
import { GREEDY, type LlamaModel, type LoadOptions } from './llama';
import { argmaxRows, loadTinyModel, rowRelativeError } from './logit-checks';
import { greedyReference, referenceLogits } from './reference';
import { buildTinyModel } from './tiny-model';
import { parseConfig } from './config';
import { weightLayout } from './weights';
import { planMemory } from './memory-plan';

const model = buildTinyModel({ family: 'qwen2', hiddenSize: 64, intermediateSize: 160, numLayers: 2, numHeads: 4, numKvHeads: 2, vocabSize: 515, tieWordEmbeddings: false, dtype: 'BF16', format: 'safetensors', shards: 2, seed: 61 });
const VOCAB = 515;
const TOKENS = [3, 77, 512, 9, 260, 401, 14, 333, 95, 128, 500];
const SMALL = { maxChunk: 4, logitsRows: 4, contextLength: 64 } satisfies Partial<LoadOptions>;

async function blocksOf(gpuModel: LlamaModel): Promise<Record<string, number>> {
  return Object.fromEntries([...gpuModel.weights.matrices].map(([key, m]) => [key, m.blocks.length]));
}

describe('a model whose matrices pass the binding limit', () => {
  // 16 KiB: the f32 embedding and lm_head (515 x 64) split in 9 blocks of 64 rows, gate_up
  // (320 x 64) in 5, qkv (128 x 64) in 2, down (64 x 160, 640 bytes a row) in 3 of 25 rows.
  it('splits them into row blocks and still matches the float64 reference (f32), greedy ids exactly', async () => {
    const gpu = withBindingLimit(await testGpu(), 16 << 10);
    const gpuModel = await loadTinyModel(gpu, model, { dtype: 'f32', ...SMALL });
    expect(await blocksOf(gpuModel)).toMatchObject({ embed: 9, lm_head: 9, 'layers.0.qkv': 2, 'layers.0.o': 1, 'layers.0.gate_up': 5, 'layers.0.down': 3 });
    const logits = await gpuModel.logits(TOKENS);
    const expected = referenceLogits(model.config, model.weights, TOKENS);
    const error = rowRelativeError(logits, expected, VOCAB);
    console.log(`split f32 model: max relative logit error ${error.toExponential(2)}`);
    expect(error).toBeLessThan(1e-4);
    expect(argmaxRows(logits, VOCAB)).toEqual(argmaxRows(expected, VOCAB));

    // One-token steps with the default fused kernels: the norm inside each block's GEMV, SwiGLU
    // after gate_up's blocks are scattered.
    const prompt = TOKENS.slice(0, 5);
    const reference = greedyReference(model.config, model.weights, prompt, 6);
    gpuModel.setSeenTokens(prompt);
    const generated = [await gpuModel.prefill(prompt, 0, GREEDY)];
    for (let i = 1; i < 6; i++) generated.push(await gpuModel.decode(prompt.length + i - 1, GREEDY));
    gpuModel.dispose();
    expect(generated).toEqual(reference);
  });

  it.each<[string, LoadOptions, number]>([
    // Chunks as small as the limit leaves room for logits rows, so both loads run the same chunks.
    ['f16', { dtype: 'f16', ...SMALL, maxChunk: 3, logitsRows: 3 }, 8 << 10],
    ['q4, the table and lm_head q4 too', { dtype: 'q4', embedFormat: 'q4', lmHeadFormat: 'q4', ...SMALL, maxChunk: 2, logitsRows: 2 }, 5 << 10],
  ])('%s: split gives the very logits of the unsplit model', async (_, options, limit) => {
    const gpu = await testGpu();
    const whole = await loadTinyModel(gpu, model, options);
    const expected = await whole.logits(TOKENS);
    expect(Object.values(await blocksOf(whole)).every((n) => n === 1)).toBe(true);
    whole.dispose();
    const split = await loadTinyModel(withBindingLimit(gpu, limit), model, options);
    const blocks = await blocksOf(split);
    const logits = await split.logits(TOKENS);
    split.dispose();
    console.log(`${_} split at ${limit} bytes: ${JSON.stringify(blocks)}`);
    expect(blocks.embed).toBeGreaterThan(1);
    expect(blocks.lm_head).toBeGreaterThan(1);
    expect(logits).toEqual(expected);
  });

  it('logits rows are kept within one binding: fewer rows a chunk, the same logits', async () => {
    const gpu = withBindingLimit(await testGpu(), 16 << 10);
    // 515 f32 logits are 2060 bytes a row: 7 rows fit 16 KiB, not the 11 asked for.
    const gpuModel = await loadTinyModel(gpu, model, { dtype: 'f32', maxChunk: 8, logitsRows: 11, contextLength: 64 });
    expect(gpuModel.shape.logitsRows).toBe(7);
    const logits = await gpuModel.logits(TOKENS);
    gpuModel.dispose();
    expect(rowRelativeError(logits, referenceLogits(model.config, model.weights, TOKENS), VOCAB)).toBeLessThan(1e-4);
  });
});

describe('the memory plan splits, and refuses only what cannot be split', () => {
  const llama3 = parseConfig(
    JSON.stringify({ architectures: ['LlamaForCausalLM'], hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8, vocab_size: 128256, max_position_embeddings: 131072, rope_theta: 500000 }),
  );

  it('Llama-3-8B f16 on a GPU binding 128 MiB: the 1 GiB embedding and lm_head in 8 blocks, gate_up in 2', () => {
    const plan = planMemory(llama3, weightLayout(llama3, 'f16', true), { contextLength: 4096, maxChunk: 256, logitsRows: 64, kvFormat: 'f16' }, 128 << 20);
    expect(plan.blockRows.get('embed')).toBe(16384);
    expect(Math.ceil(128256 / plan.blockRows.get('embed')!)).toBe(8);
    expect(plan.blockRows.get('lm_head')).toBe(16384);
    expect(Math.ceil((2 * 14336) / plan.blockRows.get('layers.0.gate_up')!)).toBe(2);
    expect(plan.blockRows.has('layers.0.qkv')).toBe(false);
    expect(plan.scratchBytes).toBe(256 * 16384 * 4);
  });

  it('nothing splits where the binding limit holds every matrix', () => {
    const plan = planMemory(llama3, weightLayout(llama3, 'q4', true), { contextLength: 4096, maxChunk: 256, logitsRows: 64, kvFormat: 'f16' }, 2 ** 31 - 4);
    expect(plan.blockRows.size).toBe(0);
    expect(plan.scratchBytes).toBe(0);
  });
});
