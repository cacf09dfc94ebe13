/**
 * The bench's CLI commands as users run them, on tiny random repos on disk: `score` against the
 * float64 reference's log-softmax, `eval` against the reference's greedy answers; both on
 * byte-level repos too (the real Llama-3 tokenizer, the repo's chat template).
 */
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vicunaFormat } from '../chat/template';
import { buildScriptedByteLevelModel, LLAMA3_SCRIPT } from '../chat/testing/scripted-byte-level';
import { greedyReference, referenceLogits } from '../model/reference';
import { buildTinyModel, type TinyModel } from '../model/tiny-model';
import { llamaTokenizerModel, writeTinyModel } from '../model/tiny-model-node';
import { LlamaTokenizer } from '../tokenizer/llama-tokenizer';
import { realTokenizerFiles, referenceTokenizer, withLlama32PostProcessor } from '../tokenizer/testing/real-tokenizers';
import { cli } from './testing';

let dir: string;
let tokenizer: LlamaTokenizer;
const models: TinyModel[] = [];
const spec = { hiddenSize: 64, intermediateSize: 160, numLayers: 2, numHeads: 4, numKvHeads: 2, dtype: 'F16', format: 'safetensors', shards: 1 } as const;
const folder = (i: number) => path.join(dir, `model-${i}`);

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cli-eval-test-'));
  tokenizer = LlamaTokenizer.fromSentencePiece(await llamaTokenizerModel());
  for (const [i, seed] of [71, 72].entries()) models.push(await writeTinyModel(folder(i), { ...spec, seed }));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** ln softmax(reference logits of row i)[ids[i + 1]] for every row but the last. */
function referenceLogprobs(model: TinyModel, ids: number[]): number[] {
  const vocab = model.config.vocabSize;
  const logits = referenceLogits(model.config, model.weights, ids);
  return ids.slice(1).map((next, row) => {
    const values = logits.subarray(row * vocab, (row + 1) * vocab);
    const max = values.reduce((a, b) => Math.max(a, b), -Infinity);
    return values[next] - max - Math.log(values.reduce((sum, v) => sum + Math.exp(v - max), 0));
  });
}

describe('cli score', () => {
  it('--text --json: ids as tokenize gives them, ln p of each next token as float64 log_softmax, perplexity', async () => {
    const text = '삼국 통일 이후 신라는 어떻게 변화했나요?';
    const { code, stdout, stderr } = await cli(['score', '--model', folder(0), '--text', text, '--json']);
    expect(code, stderr).toBe(0);
    const result = JSON.parse(stdout) as { ids: number[]; logprobs: number[]; perplexity: number };
    expect(Object.keys(result)).toEqual(['ids', 'logprobs', 'perplexity']);
    expect(result.ids).toEqual([1, ...tokenizer.encode(text)]);
    const expected = referenceLogprobs(models[0], result.ids);
    expect(result.logprobs).toHaveLength(result.ids.length - 1);
    // f32 (the default dtype) against float64: measured ~3e-6 (model/llama-score.test.ts); a
    // wrong position or target is off by O(1).
    result.logprobs.forEach((value, i) => expect(Math.abs(value - expected[i]), `position ${i}`).toBeLessThan(1e-4));
    const mean = result.logprobs.reduce((a, b) => a + b, 0) / result.logprobs.length;
    expect(result.perplexity).toBeCloseTo(Math.exp(-mean), 6);
  });

  it('--tokens as given, in q4 too; a single token is a clear error', async () => {
    const ids = [1, 450, 4996, 17354, 1701];
    const q4 = await cli(['score', '--model', folder(1), '--tokens', ids.join(','), '--dtype', 'q4', '--json']);
    expect(q4.code, q4.stderr).toBe(0);
    const result = JSON.parse(q4.stdout) as { ids: number[]; logprobs: number[]; perplexity: number };
    expect(result.ids).toEqual(ids);
    // q4 rounds every weight (docs/quantization.md): close to float64, not equal.
    const expected = referenceLogprobs(models[1], ids);
    result.logprobs.forEach((value, i) => expect(Math.abs(value - expected[i])).toBeLessThan(1));

    const one = await cli(['score', '--model', folder(1), '--tokens', '1', '--json']);
    expect(one.code).toBe(2);
    expect(one.stderr).toMatch(/error \[bad-input\]: Scoring needs at least two tokens/);
  });
});

describe('cli eval', () => {
  it('writes one line per question and model: the greedy answer, tokens, seed, settings, tok/s', async () => {
    const questions = ['하와이 3일 여행 계획', '피보나치 파이썬 코드'];
    const file = path.join(dir, 'questions.jsonl');
    await writeFile(file, `${questions.map((question, i) => JSON.stringify({ id: i, question })).join('\n')}\n`);
    const out = path.join(dir, 'results.jsonl');
    const args = ['eval', '--model', folder(0), '--model', folder(1), '--questions', file, '--out', out, '--dtype', 'f32', '--max-new-tokens', '4', '--seed', '7'];
    const { code, stderr } = await cli(args);
    expect(code, stderr).toBe(0);
    const lines = (await readFile(out, 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((line) => [line.model, line.question])).toEqual([
      [folder(0), questions[0]],
      [folder(0), questions[1]],
      [folder(1), questions[0]],
      [folder(1), questions[1]],
    ]);
    const format = vicunaFormat({ bos: '<s>', eos: '</s>' });
    lines.forEach((line, i) => {
      expect(Object.keys(line)).toEqual(['question', 'model', 'answer', 'tokens', 'seed', 'settings', 'tokensPerSecond']);
      const model = models[i >> 1];
      const prompt = tokenizer.encodeChat(format.render([{ role: 'user', content: line.question as string }], { addGenerationPrompt: true }), { addBos: true });
      const ids = greedyReference(model.config, model.weights, prompt, 4, [tokenizer.eosId]);
      expect(line.answer).toBe(tokenizer.decode(ids.filter((id) => id !== 2)));
      expect(line.tokens).toBe(ids.length);
      expect(line.seed).toBe(7);
      expect(line.settings).toEqual({ template: 'vicuna', maxNewTokens: 4, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, dtype: 'f32', contextLength: 2048 });
      expect(line.tokensPerSecond).toBeGreaterThanOrEqual(0);
    });
  });

  it('refuses a bad question file or a missing flag before loading anything, and writes nothing', async () => {
    const file = path.join(dir, 'bad.jsonl');
    await writeFile(file, '{"question": "하나"}\n{"prompt": "둘"}\n');
    const out = path.join(dir, 'never.jsonl');
    const bad = await cli(['eval', '--model', folder(0), '--questions', file, '--out', out]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/error \[bad-input\]: bad.jsonl line 2 has no "question"/);
    const noModel = await cli(['eval', '--questions', file, '--out', out]);
    expect(noModel.code).toBe(2);
    expect(noModel.stderr).toMatch(/--model is required/);
    await expect(access(out)).rejects.toThrow();
  });
});

describe('score and eval on byte-level repos', () => {
  it('score: ids as the Llama-3 tokenizer gives them (its <|begin_of_text|> first), ln p against float64', async () => {
    // Llama-3.1/3.2's tokenizer.json, whose post-processor puts <|begin_of_text|> first.
    const real = realTokenizerFiles('llama3');
    const files = { ...real, tokenizerJson: withLlama32PostProcessor(real.tokenizerJson) };
    // Llama-3.x's shape: tied embeddings, rope llama3, an explicit head_dim; narrow, as the vocabulary is 128k.
    // Its own tokenizer files only (writeTinyModel would add LLaMA's tokenizer.model, which a repo's loader reads first).
    const model = buildTinyModel({
      ...spec,
      hiddenSize: 32,
      intermediateSize: 96,
      numHeads: 2,
      numKvHeads: 1,
      family: 'llama',
      headDim: 16,
      vocabSize: 128256,
      tieWordEmbeddings: true,
      ropeTheta: 500000,
      ropeScaling: { factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 64 },
      bosTokenId: 128000,
      eosTokenId: [128001, 128008, 128009],
      seed: 73,
      extraFiles: { 'tokenizer.json': files.tokenizerJson, 'tokenizer_config.json': files.tokenizerConfig },
    });
    await mkdir(path.join(dir, 'llama3'));
    for (const [name, bytes] of model.files) await writeFile(path.join(dir, 'llama3', name), bytes);
    const text = '삼국 통일 이후 신라는?';
    const { code, stdout, stderr } = await cli(['score', '--model', path.join(dir, 'llama3'), '--text', text, '--json']);
    expect(code, stderr).toBe(0);
    const result = JSON.parse(stdout) as { ids: number[]; logprobs: number[]; perplexity: number };
    expect(result.ids).toEqual(await referenceTokenizer(files.tokenizerJson).encode(text, true));
    expect(result.ids[0]).toBe(128000);
    const expected = referenceLogprobs(model, result.ids);
    expect(result.logprobs).toHaveLength(result.ids.length - 1);
    // f32 against float64, as above.
    result.logprobs.forEach((value, i) => expect(Math.abs(value - expected[i]), `position ${i}`).toBeLessThan(1e-4));
  });

  it('eval: each question asked in the repo\'s own chat template, the answer stopped by <|eot_id|>', async () => {
    const scripted = buildScriptedByteLevelModel(realTokenizerFiles('llama3'), LLAMA3_SCRIPT);
    const repo = path.join(dir, 'scripted-llama3');
    await mkdir(repo, { recursive: true });
    for (const [name, bytes] of scripted.files) await writeFile(path.join(repo, name), bytes);
    const file = path.join(dir, 'questions-byte-level.jsonl');
    await writeFile(file, `${JSON.stringify({ question: '하와이 3일 여행 계획' })}\n${JSON.stringify({ question: '신라의 삼국 통일' })}\n`);
    const out = path.join(dir, 'results-byte-level.jsonl');
    const { code, stderr } = await cli(['eval', '--model', repo, '--questions', file, '--out', out, '--dtype', 'q4', '--max-new-tokens', '60', '--context-length', '256']);
    expect(code, stderr).toBe(0);
    const lines = (await readFile(out, 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line.answer).toBe(scripted.answer);
      expect(line.tokens).toBe(scripted.ids.length);
      expect((line.settings as { template: string }).template).toBe('repo');
    }
  });
});
