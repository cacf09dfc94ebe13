/**
 * Scoring through the chat engine: spans of visible text with their tokens' log-probabilities,
 * and the KV cache bookkeeping when scoring and chatting share one model.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testGpu } from '../gpu/testing';
import { MemorySource } from '../loader/sources/memory-source';
import { buildTinyModelWithTokenizer } from '../model/tiny-model-node';
import { ChatEngine, type ChatSettings } from './engine';
import { idsSpelling, scoreInput } from './score';

let engine: ChatEngine;
const RAW: ChatSettings = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0, maxNewTokens: 6, template: 'raw' };

beforeAll(async () => {
  const model = await buildTinyModelWithTokenizer({ hiddenSize: 64, intermediateSize: 160, numLayers: 2, numHeads: 4, numKvHeads: 2, dtype: 'F16', format: 'safetensors', shards: 1, seed: 51 });
  engine = await ChatEngine.load(await testGpu(), new MemorySource(model.files), { dtype: 'f32', maxChunk: 8, contextLength: 128 });
});
afterAll(() => engine?.dispose());

describe('scoreInput', () => {
  it('groups tokens into spans that spell the text, each with its top alternatives', async () => {
    const text = '신라의 삼국 통일 Hello world';
    const ids = engine.repo.tokenizer.encode(text, { addBos: true });
    const scored = await scoreInput(engine, { kind: 'text', text });
    expect(scored.spans.map((span) => span.text).join('')).toBe(text);
    const tokens = scored.spans.flatMap((span) => span.tokens);
    expect(tokens.map((token) => token.id)).toEqual(ids.slice(1));
    expect(scored).toMatchObject({ tokens: ids.length - 1, contextTokens: 1 });
    // Hangul syllables outside the vocabulary are byte tokens: some span holds several.
    expect(scored.spans.some((span) => span.tokens.length > 1)).toBe(true);
    expect(scored.perplexity).toBeCloseTo(Math.exp(-tokens.reduce((sum, t) => sum + t.logprob, 0) / tokens.length), 6);
    for (const token of tokens) {
      expect(token.top).toHaveLength(5);
      expect(token.top.every((alt, k) => k === 0 || alt.logprob <= token.top[k - 1].logprob)).toBe(true);
      expect(token.logprob).toBeLessThanOrEqual(token.top[0].logprob + 1e-6);
    }
  });

  it('scoring overwrites the KV cache: the next turn reuses only what the cache really holds', async () => {
    const question = [{ role: 'user' as const, content: '삼국 통일 이후 신라' }];
    const promptTokens = engine.promptIds(question, engine.promptFormat(RAW)).length;
    engine.session.reset();
    const first = await engine.chat(question, RAW);
    expect(first.prefilledTokens).toBe(promptTokens);

    // An unrelated text shares only BOS with the prompt: everything else must run again.
    await scoreInput(engine, { kind: 'text', text: 'Hawaii 여행 계획과 예산' });
    const afterText = await engine.chat(question, RAW);
    expect(afterText.prefilledTokens).toBe(promptTokens - 1);
    expect(afterText.ids).toEqual(first.ids);

    // Scoring the answer after the same prompt leaves the prompt in the cache.
    const scored = await scoreInput(engine, { kind: 'answer', history: question, answer: first.text, settings: RAW });
    expect(scored.contextTokens).toBe(promptTokens);
    expect(scored.spans.map((span) => span.text).join('')).toBe(first.text);
    const afterAnswer = await engine.chat(question, RAW);
    expect(afterAnswer.prefilledTokens).toBe(1); // the last prompt token always runs
    expect(afterAnswer.ids).toEqual(first.ids);
  });

  it('an answer after a conversation longer than the context is scored after its latest turns', async () => {
    const long = '삼국 통일 이후 신라의 정치와 사회와 문화'.repeat(2);
    const history = [
      { role: 'user' as const, content: long },
      { role: 'assistant' as const, content: long },
      { role: 'user' as const, content: long },
      { role: 'assistant' as const, content: long },
      { role: 'user' as const, content: '마지막 질문' },
    ];
    const answer = '짧은 답';
    const answerTokens = engine.repo.tokenizer.encode(answer).length;
    // The longest window of whole exchanges that fits this engine's 128-token context.
    const windows = [0, 2, 4].map((cut) => engine.promptIds(history.slice(cut), engine.promptFormat(RAW)).length);
    expect(windows[0] + answerTokens - 1).toBeGreaterThan(128);
    const fits = windows.find((length) => length + answerTokens - 1 <= 128);
    const scored = await scoreInput(engine, { kind: 'answer', history, answer, settings: RAW });
    expect(scored).toMatchObject({ contextTokens: fits, tokens: answerTokens });
    // An answer the chat wrote after a block drop (its stats say how many messages) is scored
    // after that window, though a later cut would fit.
    const withShort = [history[0], history[1], { role: 'user' as const, content: '짧은 질문' }, { role: 'assistant' as const, content: '짧은 답' }, history[4]];
    const shortWindows = [0, 2, 4].map((cut) => engine.promptIds(withShort.slice(cut), engine.promptFormat(RAW)).length);
    expect(shortWindows[0] + answerTokens - 1).toBeGreaterThan(128);
    expect(shortWindows[1] + answerTokens - 1).toBeLessThanOrEqual(128);
    expect(await scoreInput(engine, { kind: 'answer', history: withShort, answer, settings: RAW })).toMatchObject({ contextTokens: shortWindows[1] });
    const afterBlock = await scoreInput(engine, { kind: 'answer', history: withShort, answer, settings: RAW, droppedTurns: 4 });
    expect(afterBlock).toMatchObject({ contextTokens: shortWindows[2], tokens: answerTokens });
  });

  it("scores a generated answer's own tokens: greedy ids are each position's likeliest", async () => {
    const question = [{ role: 'user' as const, content: 'Hawaii 3일 여행' }];
    const generated = await engine.chat(question, RAW);
    const written = generated.ids.filter((id) => id !== engine.repo.tokenizer.eosId);
    const scored = await scoreInput(engine, { kind: 'answer', history: question, answer: generated.text, settings: RAW, ids: generated.ids });
    const tokens = scored.spans.flatMap((span) => span.tokens);
    expect(tokens.map((token) => token.id)).toEqual(written);
    for (const token of tokens) expect(token.top[0].id).toBe(token.id);
  });

  it('idsSpelling: the ids up to the end of the text; undefined when they spell something else', () => {
    const { tokenizer } = engine.repo;
    const hello = tokenizer.encode('안녕하세요 반가워요');
    expect(idsSpelling(tokenizer, [...hello, tokenizer.eosId], '안녕하세요 반가워요')).toEqual(hello);
    expect(idsSpelling(tokenizer, [...hello, ...tokenizer.encode(' USER:')], '안녕하세요 반가워요')).toEqual(hello);
    expect(idsSpelling(tokenizer, hello, '안녕하세요 반가워요!')).toBeUndefined(); // the ids end first
    expect(idsSpelling(tokenizer, hello, '다른 말')).toBeUndefined();
  });

  it('says clearly what cannot be scored', async () => {
    await expect(scoreInput(engine, { kind: 'text', text: '' })).rejects.toMatchObject({ code: 'bad-input' });
    await expect(scoreInput(engine, { kind: 'text', text: '가'.repeat(200) })).rejects.toMatchObject({ code: 'context-full' });
  });
});
