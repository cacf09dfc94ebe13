import { describe, expect, it } from 'vitest';
import { TOP_LOGPROBS } from '../gpu/ops';
import { testGpu } from '../gpu/testing';
import { loadTinyModel } from './logit-checks';
import { referenceLogits } from './reference';
import { buildTinyModel, type TinyModelSpec } from './tiny-model';

const GQA: TinyModelSpec = { hiddenSize: 96, intermediateSize: 256, numLayers: 3, numHeads: 6, numKvHeads: 2, dtype: 'BF16', format: 'safetensors', shards: 1, seed: 31 };
const TOKENS = [1, 450, 4996, 17354, 1701, 432, 17204, 975, 278, 17366, 11203, 29889, 31734, 30709, 29871, 13, 2];

/** float64 log_softmax of each row of the reference logits: the next id's value and the top ids. */
function referenceScores(logits: Float64Array, tokens: number[], vocab: number) {
  const logprobs: number[] = [];
  const topIds: number[][] = [];
  for (let row = 0; row < tokens.length - 1; row++) {
    const values = logits.subarray(row * vocab, (row + 1) * vocab);
    let max = -Infinity;
    for (const v of values) max = Math.max(max, v);
    let sum = 0;
    for (const v of values) sum += Math.exp(v - max);
    const lse = max + Math.log(sum);
    logprobs.push(values[tokens[row + 1]] - lse);
    topIds.push([...values.keys()].sort((a, b) => values[b] - values[a] || a - b).slice(0, TOP_LOGPROBS));
  }
  return { logprobs, topIds };
}

describe('LlamaModel.score', () => {
  const model = buildTinyModel(GQA);
  const vocab = model.config.vocabSize;
  const expected = referenceScores(referenceLogits(model.config, model.weights, TOKENS), TOKENS, vocab);

  // Chunks of 3 rows (odd, and 16 positions do not divide into them), of 1 row (the decode
  // kernels: GEMV and split-K attention) and of all 16 at once.
  it.each([
    { maxChunk: 5, logitsRows: 3 },
    { maxChunk: 4, logitsRows: 1 },
    { maxChunk: 64, logitsRows: 64 },
  ])('log-probabilities of every next token match the float64 log_softmax (f32, %o)', async (shape) => {
    const gpuModel = await loadTinyModel(await testGpu(), model, { dtype: 'f32', ...shape });
    const scores = await gpuModel.score(TOKENS);
    gpuModel.dispose();
    expect(scores.logprobs).toHaveLength(TOKENS.length - 1);
    const error = Math.max(...Array.from(scores.logprobs, (value, i) => Math.abs(value - expected.logprobs[i])));
    console.log(`score ${JSON.stringify(shape)}: max |logprob error| ${error.toExponential(2)}`);
    // A log-probability is a logit minus its row's logsumexp (32000 terms), both in f32 through
    // 3 layers: measured 2.6e-6 to 4e-6 absolute on SwiftShader. 1e-4 leaves 25x for other
    // adapters' exp/log; a wrong row, position or target is off by O(1).
    expect(error).toBeLessThan(1e-4);
    for (let row = 0; row < TOKENS.length - 1; row++) {
      expect(Array.from(scores.topIds.subarray(row * TOP_LOGPROBS, (row + 1) * TOP_LOGPROBS)), `row ${row}`).toEqual(expected.topIds[row]);
    }
    // Each row's best alternative is at least as likely as the scored token.
    scores.logprobs.forEach((value, row) => expect(scores.topLogprobs[row * TOP_LOGPROBS]).toBeGreaterThanOrEqual(value - 1e-6));
  });

  it('rejects what cannot be scored', async () => {
    const gpuModel = await loadTinyModel(await testGpu(), model, { dtype: 'f32', contextLength: 8 });
    await expect(gpuModel.score([1])).rejects.toMatchObject({ code: 'bad-input' });
    await expect(gpuModel.score([1, vocab])).rejects.toMatchObject({ code: 'bad-input' });
    await expect(gpuModel.score(TOKENS)).rejects.toMatchObject({ code: 'context-full' });
    // 9 ids run 8 positions: exactly the context.
    expect((await gpuModel.score(TOKENS.slice(0, 9))).logprobs).toHaveLength(8);
    gpuModel.dispose();
  });
});
