/**
 * What the API's requests add to generation, on a tiny seeded model on real WebGPU: each sampled
 * token's log-probability and top alternatives (token_logprobs.wgsl run on the sampled row, checked
 * against the float64 reference), raw completions, stop strings and seeds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testGpu } from '../gpu/testing';
import { TOP_LOGPROBS } from '../gpu/ops';
import { MemorySource } from '../loader/sources/memory-source';
import { referenceLogits } from '../model/reference';
import type { TinyModel } from '../model/tiny-model';
import { buildTinyModelWithTokenizer } from '../model/tiny-model-node';
import { ChatEngine, type GenerationSettings } from './engine';
import type { GeneratedToken } from './token-text';

let engine: ChatEngine;
let tiny: TinyModel;
const RAW: GenerationSettings = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0, maxNewTokens: 12, template: 'raw' };
const PROMPT = '신라의 삼국 통일';

beforeAll(async () => {
  tiny = await buildTinyModelWithTokenizer({ hiddenSize: 64, intermediateSize: 160, numLayers: 2, numHeads: 4, numKvHeads: 2, dtype: 'F16', format: 'safetensors', shards: 1, seed: 77 });
  engine = await ChatEngine.load(await testGpu(), new MemorySource(tiny.files), { dtype: 'f32', maxChunk: 8, contextLength: 128 });
});
afterAll(() => engine?.dispose());

/** ln softmax of float64 logits, and the row's ids by logit (larger first, smaller id on ties). */
function logSoftmax(row: Float64Array): { logprobs: Float64Array; order: number[] } {
  let max = -Infinity;
  for (const value of row) max = Math.max(max, value);
  let sum = 0;
  for (const value of row) sum += Math.exp(value - max);
  const lse = max + Math.log(sum);
  const logprobs = row.map((value) => value - lse);
  const order = [...row.keys()].sort((a, b) => row[b] - row[a] || a - b);
  return { logprobs, order };
}

async function generateWithTokens(settings: GenerationSettings, prompt = PROMPT) {
  const pieces: { text: string; tokens: GeneratedToken[] }[] = [];
  const result = await engine.complete(prompt, settings, { onText: (text, tokens) => pieces.push({ text, tokens }) });
  return { result, pieces, tokens: pieces.flatMap((piece) => piece.tokens) };
}

/** Every generated token's logprob and top ids against float64 log_softmax at its position. */
function checkAgainstReference(prompt: number[], tokens: GeneratedToken[]): void {
  const ids = [...prompt, ...tokens.map((token) => token.id)];
  const vocab = tiny.config.vocabSize;
  const logits = referenceLogits(tiny.config, tiny.weights, ids.slice(0, -1));
  tokens.forEach((token, i) => {
    const position = prompt.length - 1 + i;
    const { logprobs, order } = logSoftmax(logits.subarray(position * vocab, (position + 1) * vocab));
    // f32 forward vs float64: logits agree to ~1e-6 relative (llama.test.ts); the log-sum-exp
    // over 32000 f32 terms adds ~1e-5. 1e-3 absolute is far below any gap between tokens here.
    expect(Math.abs(token.logprob! - logprobs[token.id])).toBeLessThan(1e-3);
    expect(token.top).toHaveLength(TOP_LOGPROBS);
    expect(token.top!.map((alt) => alt.id)).toEqual(order.slice(0, TOP_LOGPROBS));
    token.top!.forEach((alt) => expect(Math.abs(alt.logprob - logprobs[alt.id])).toBeLessThan(1e-3));
  });
}

describe('generation for the API', () => {
  it('greedy with logprobs: each token scored as the float64 model scores it, bytes adding up to the text', async () => {
    const { result, pieces, tokens } = await generateWithTokens({ ...RAW, logprobs: true });
    const prompt = engine.repo.tokenizer.encode(PROMPT, { addBos: true });
    expect(tokens.map((token) => token.id)).toEqual(result.ids.filter((id) => !engine.repo.stopIds.includes(id)));
    checkAgainstReference(prompt, tokens);
    // Greedy: the sampled token is the likeliest.
    tokens.forEach((token) => expect(token.top![0].id).toBe(token.id));
    expect(pieces.map((piece) => piece.text).join('')).toBe(result.text);
    const bytes = tokens.flatMap((token) => token.bytes);
    expect(new TextDecoder().decode(new Uint8Array(bytes))).toBe(result.text);
  });

  it('sampled with a seed: the logprob is the sampled token\'s, and the same seed gives the same answer', async () => {
    const settings = { ...RAW, temperature: 1.5, seed: 1234, logprobs: true };
    const first = await generateWithTokens(settings);
    const again = await generateWithTokens(settings);
    expect(again.result.ids).toEqual(first.result.ids);
    checkAgainstReference(engine.repo.tokenizer.encode(PROMPT, { addBos: true }), first.tokens);
    // At this temperature some token is not the argmax (seeded: fixed for this model).
    expect(first.tokens.some((token) => token.top![0].id !== token.id)).toBe(true);
    const other = await generateWithTokens({ ...settings, seed: 99 });
    expect(other.result.ids).not.toEqual(first.result.ids);
  });

  it('without logprobs tokens still come with their ids and bytes, and scoring is off', async () => {
    const { result, tokens } = await generateWithTokens(RAW);
    expect(tokens.length).toBeGreaterThan(0);
    expect(tokens.every((token) => token.logprob === undefined && token.top === undefined)).toBe(true);
    expect(new TextDecoder().decode(new Uint8Array(tokens.flatMap((token) => token.bytes)))).toBe(result.text);
  });

  it('complete() continues text (BOS first) or ids as given, as a raw chat does', async () => {
    const chat = await engine.chat([{ role: 'user', content: PROMPT }], RAW);
    const text = await engine.complete(PROMPT, RAW);
    const ids = await engine.complete(engine.repo.tokenizer.encode(PROMPT, { addBos: true }), RAW);
    expect(text.ids).toEqual(chat.ids);
    expect(ids.ids).toEqual(chat.ids);
    await expect(engine.complete([1, 1e9], RAW)).rejects.toMatchObject({ code: 'bad-input' });
    await expect(engine.complete('가'.repeat(200), RAW)).rejects.toMatchObject({ code: 'context-full' });
  });

  it('a stop string ends the answer before it', async () => {
    const { result } = await generateWithTokens({ ...RAW, maxNewTokens: 24 });
    const stop = result.text.slice(Math.floor(result.text.length / 2)).trim().slice(0, 2);
    expect(stop.length).toBe(2);
    const stopped = await generateWithTokens({ ...RAW, maxNewTokens: 24, stop: ['never appears', stop] });
    expect(stopped.result.finishReason).toBe('stop-string');
    expect(stopped.result.text).toBe(result.text.slice(0, result.text.indexOf(stop)));
    expect(stopped.pieces.map((piece) => piece.text).join('')).toBe(stopped.result.text);
  });
});
