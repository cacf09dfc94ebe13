/**
 * `chat --script`: a long Korean conversation on a tiny random model with a 512-token context,
 * as a user runs it, checked for what issue 17 asks: once the context is full, a turn costs
 * about what a turn cost before (the kept window's cache is reused), and every answer is still
 * the float64 reference's greedy answer to the exact prompt the model was given.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vicunaFormat, type ChatMessage } from '../chat/template';
import { greedyReference } from '../model/reference';
import { writeTinyModel } from '../model/tiny-model-node';
import type { TinyModel } from '../model/tiny-model';
import { LlamaTokenizer } from '../tokenizer/llama-tokenizer';
import { llamaModelBytes } from '../tokenizer/testing';
import type { TurnReport } from './chat-script';
import { cli } from './testing';

const TOPICS = [
  '하와이 3일 여행 계획과 예산을 알려 주세요',
  '파이썬으로 피보나치 함수를 짜 주세요',
  '삼국 통일 이후 신라는 어떻게 되었나요',
  '서울에서 부산까지 기차로 얼마나 걸리나요',
  '김치찌개 맛있게 끓이는 법',
  '겨울에 감기를 예방하려면 어떻게 하나요',
  '존댓말과 반말의 차이를 설명해 주세요',
  '요즘 읽을 만한 소설을 추천해 주세요',
];
const QUESTIONS = Array.from({ length: 40 }, (_, i) => `${TOPICS[i % TOPICS.length]} (${i + 1}번째 질문)`);
const CONTEXT = 512;
const NEW_TOKENS = 6;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

let dir: string;
let model: TinyModel;
const tokenizer = LlamaTokenizer.fromSentencePiece(llamaModelBytes());

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cli-chat-'));
  model = await writeTinyModel(path.join(dir, 'model'), { hiddenSize: 64, intermediateSize: 160, numLayers: 2, numHeads: 4, numKvHeads: 2, dtype: 'F16', format: 'safetensors', shards: 1, seed: 23 });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('cli chat', () => {
  it('40 turns past a full context: turns after it prefill about what turns before it did, answers equal the reference', async () => {
    const script = path.join(dir, 'long.jsonl');
    await writeFile(script, `${QUESTIONS.map((user) => JSON.stringify({ user })).join('\n')}\n`);
    const args = ['chat', '--model', path.join(dir, 'model'), '--script', script, '--dtype', 'f32', '--context-length', String(CONTEXT), '--max-new-tokens', String(NEW_TOKENS), '--json'];
    const { code, stdout, stderr } = await cli(args);
    expect(code, stderr).toBe(0);
    const turns = stdout.trim().split('\n').map((line) => JSON.parse(line) as TurnReport);
    expect(turns.map((t) => t.turn)).toEqual(QUESTIONS.map((_, i) => i + 1));
    for (const turn of turns) {
      expect(Object.keys(turn).sort()).toEqual(['droppedTurns', 'finishReason', 'ids', 'ms', 'newTokens', 'prefillTokens', 'promptTokens', 'text', 'turn']);
      expect(turn.newTokens).toBe(turn.ids.length);
      expect(turn.promptTokens + turn.newTokens).toBeLessThanOrEqual(CONTEXT);
      expect(turn.ms).toBeGreaterThan(0);
    }
    const filled = turns.findIndex((t) => t.droppedTurns > 0);
    expect(filled).toBeGreaterThan(4);
    const before = turns.slice(0, filled).map((t) => t.prefillTokens);
    const after = turns.slice(filled).map((t) => t.prefillTokens);
    // The window moves in blocks: a move prefills the kept window (after the system prompt, still
    // cached); the other turns only what is new.
    const moves = turns.filter((t, i) => i > 0 && t.droppedTurns !== turns[i - 1].droppedTurns);
    console.log(`context ${CONTEXT}: filled at turn ${filled + 1}; prefilled per turn before ${before.join(' ')}; after ${after.join(' ')}; window moved ${moves.length} times; ms per turn ${turns.map((t) => Math.round(t.ms)).join(' ')}`);
    expect(median(after)).toBeLessThanOrEqual(2 * median(before));
    expect(moves.length).toBeGreaterThanOrEqual(2);
    expect(moves.length).toBeLessThanOrEqual(after.length / 3);
    for (const t of moves) expect(t.prefillTokens).toBeGreaterThan(median(after));

    // Exactly the model's greedy answer to the prompt it was given: an early turn, the first
    // block drop, and the turn after it, which reuses the cache of the moved window.
    const eos = tokenizer.eosId;
    const format = vicunaFormat({ bos: tokenizer.idToPiece(tokenizer.bosId), eos: tokenizer.idToPiece(eos) });
    for (const index of [1, filled, filled + 1]) {
      const history: ChatMessage[] = turns.slice(0, index).flatMap((t, i) => [{ role: 'user', content: QUESTIONS[i] }, { role: 'assistant', content: t.text }] as ChatMessage[]);
      const kept = [...history, { role: 'user', content: QUESTIONS[index] } as ChatMessage].slice(turns[index].droppedTurns);
      const prompt = tokenizer.encodeChat(format.render(kept, { addGenerationPrompt: true }), { addBos: true });
      expect(prompt.length, `turn ${index + 1}`).toBe(turns[index].promptTokens);
      expect(turns[index].ids, `turn ${index + 1}`).toEqual(greedyReference(model.config, model.weights, prompt, NEW_TOKENS, [eos]));
    }
    expect(turns[filled + 1].prefillTokens).toBeLessThan(turns[filled + 1].promptTokens / 4);
  });

  it('names the script line it cannot read, before loading anything', async () => {
    const script = path.join(dir, 'bad.jsonl');
    await writeFile(script, '\uFEFF{"user": "안녕하세요"}\r\n\r\n{"usr": "오타"}\r\n');
    const typo = await cli(['chat', '--model', path.join(dir, 'nope'), '--script', script, '--json']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/error \[bad-input\]: .*bad\.jsonl line 3: expected \{"user": "\.\.\."\}/);

    await writeFile(script, '{"user": "안녕하세요"}\n{"user": 안녕}\n');
    const notJson = await cli(['chat', '--model', path.join(dir, 'nope'), '--script', script]);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(/error \[bad-input\]: .*bad\.jsonl line 2 is not JSON/);

    const missing = await cli(['chat', '--model', path.join(dir, 'model'), '--script', path.join(dir, 'none.jsonl')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/error \[not-found\]: --script .*none\.jsonl: no such file/);
    const usage = await cli(['chat', '--model', path.join(dir, 'model')]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--script is required/);
  });
});
