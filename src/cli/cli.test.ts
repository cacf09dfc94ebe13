/**
 * The CLI as a user runs it (`node scripts/cli.mjs ...`, what `npm run -s cli --` calls), on tiny
 * random repos written to disk in hub layout, against the float64 reference.
 */
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vicunaFormat } from '../chat/template';
import { greedyReference, referenceLogits } from '../model/reference';
import { argmaxRows, rowRelativeError } from '../model/logit-checks';
import { buildTinyModel } from '../model/tiny-model';
import { llamaTokenizerModel, writeTinyModel } from '../model/tiny-model-node';
import { tokenizerFromJson } from '../tokenizer/load-tokenizer';
import { realTokenizerFiles } from '../tokenizer/testing/real-tokenizers';
import { cli } from './testing';
import { LlamaTokenizer } from '../tokenizer/llama-tokenizer';

let dir: string;
let tokenizer: LlamaTokenizer;
const spec = { hiddenSize: 64, intermediateSize: 160, numLayers: 2, numHeads: 4, numKvHeads: 2, format: 'safetensors', shards: 2, seed: 21 } as const;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cli-test-'));
  tokenizer = LlamaTokenizer.fromSentencePiece(await llamaTokenizerModel());
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('cli', () => {
  it('tokenize prints the ids with BOS first', async () => {
    const model = path.join(dir, 'tokenize');
    await writeTinyModel(model, { ...spec, dtype: 'F16' });
    const text = '신라의 삼국 통일 Hello  world\n';
    const { code, stdout } = await cli(['tokenize', '--model', model, '--text', text]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ ids: [1, ...tokenizer.encode(text)] });
  });

  it('logits --text writes every position as float32 within 1e-4 of float64', async () => {
    const folder = path.join(dir, 'logits');
    const model = await writeTinyModel(folder, { ...spec, dtype: 'BF16' });
    const out = path.join(dir, 'logits.bin');
    const text = '피보나치 수열 파이썬 코드';
    const { code, stdout, stderr } = await cli(['logits', '--model', folder, '--text', text, '--out', out]);
    expect(code, stderr).toBe(0);
    const tokens = [1, ...tokenizer.encode(text)];
    expect(JSON.parse(stdout)).toEqual({ tokens: tokens.length, vocab: 32000 });
    const bytes = await readFile(out);
    const logits = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    const expected = referenceLogits(model.config, model.weights, tokens);
    let diff = 0;
    let scale = 0;
    expected.forEach((value, i) => {
      diff = Math.max(diff, Math.abs(value - logits[i]));
      scale = Math.max(scale, Math.abs(value));
    });
    expect(logits.length).toBe(expected.length);
    expect(diff / scale).toBeLessThan(1e-4);
  });

  it('logits --out writes config.json\'s vocab_size floats per position: a Qwen vocabulary padded past its tokenizer, padded rows included', async () => {
    const folder = path.join(dir, 'logits-padded');
    const qwen = realTokenizerFiles('qwen3');
    // Padded rows (past the tokenizer's 151,669 ids) scaled up: their logits are the largest.
    const model = buildTinyModel({ ...spec, family: 'qwen2', vocabSize: 151936, tieWordEmbeddings: true, dtype: 'BF16', shards: 1, paddedRows: { from: 151669, scale: 4 }, extraFiles: { 'tokenizer.json': qwen.tokenizerJson, 'tokenizer_config.json': qwen.tokenizerConfig } });
    await mkdir(folder, { recursive: true });
    for (const [name, bytes] of model.files) await writeFile(path.join(folder, name), bytes);
    const out = path.join(dir, 'logits-padded.bin');
    const { code, stdout, stderr } = await cli(['logits', '--model', folder, '--text', '신라의 통일', '--out', out]);
    expect(code, stderr).toBe(0);
    const { tokens, vocab } = JSON.parse(stdout) as { tokens: number; vocab: number };
    expect(vocab).toBe(151936);
    const bytes = await readFile(out);
    expect(bytes.byteLength).toBe(tokens * 151936 * 4);
    const logits = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    const ids = tokenizerFromJson(qwen.tokenizerJson).encode('신라의 통일', { addBos: true });
    expect(ids).toHaveLength(tokens);
    const expected = referenceLogits(model.config, model.weights, ids);
    expect(rowRelativeError(logits, expected, 151936)).toBeLessThan(1e-4);
    expect(argmaxRows(logits, 151936).every((id) => id >= 151669)).toBe(true);
  });

  it('generate --json: greedy ids equal the reference, raw and vicuna templates, torch shards too', async () => {
    const folder = path.join(dir, 'generate');
    const model = await writeTinyModel(folder, { ...spec, dtype: 'F16', format: 'torch' });
    const prompt = '삼국 통일 이후 신라';
    const raw = await cli(['generate', '--model', folder, '--prompt', prompt, '--template', 'raw', '--max-new-tokens', '6', '--dtype', 'f32', '--json']);
    expect(raw.code, raw.stderr).toBe(0);
    const rawResult = JSON.parse(raw.stdout) as { ids: number[]; text: string; prefillTokens: number; newTokens: number };
    const rawPrompt = [1, ...tokenizer.encode(prompt)];
    expect(rawResult.ids).toEqual(greedyReference(model.config, model.weights, rawPrompt, 6, [tokenizer.eosId]));
    expect(rawResult.prefillTokens).toBe(rawPrompt.length);
    expect(rawResult.newTokens).toBe(rawResult.ids.length);
    expect(rawResult.text).toBe(tokenizer.decode(rawResult.ids.filter((id) => id !== 2)));

    const vicuna = await cli(['generate', '--model', folder, '--prompt', prompt, '--max-new-tokens', '4', '--dtype', 'f32', '--json', '--system', '시스템']);
    expect(vicuna.code, vicuna.stderr).toBe(0);
    const text = vicunaFormat({ bos: '<s>', eos: '</s>' }).render([{ role: 'system', content: '시스템' }, { role: 'user', content: prompt }], { addGenerationPrompt: true });
    expect(text).toBe(`시스템 USER: ${prompt} ASSISTANT:`);
    const expectedIds = greedyReference(model.config, model.weights, tokenizer.encodeChat(text, { addBos: true }), 4, [tokenizer.eosId]);
    expect((JSON.parse(vicuna.stdout) as { ids: number[] }).ids).toEqual(expectedIds);
  });

  it('fails with a typed error and exit code on bad input', async () => {
    const missing = await cli(['generate', '--model', path.join(dir, 'nope'), '--prompt', 'x']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/error \[not-found\]/);

    const usage = await cli(['generate', '--model', dir]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--prompt is required/);

    const badFlag = await cli(['generate', '--model', dir, '--prompt', 'x', '--temperature', 'hot']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/--temperature must be/);

    const folder = path.join(dir, 'broken');
    await writeTinyModel(folder, { ...spec, dtype: 'F16', shards: 1 });
    const config = JSON.parse(await readFile(path.join(folder, 'config.json'), 'utf8'));
    await writeFile(path.join(folder, 'config.json'), JSON.stringify({ ...config, num_hidden_layers: 1e9 }));
    const absurd = await cli(['generate', '--model', folder, '--prompt', 'x']);
    expect(absurd.code).toBe(1);
    expect(absurd.stderr).toMatch(/error \[bad-model\]: config.json: "num_hidden_layers" must be an integer/);

    // Another architecture is refused by name, with the families this engine runs.
    await writeFile(path.join(folder, 'config.json'), JSON.stringify({ ...config, model_type: 'gemma2', architectures: ['Gemma2ForCausalLM'] }));
    const unsupported = await cli(['logits', '--model', folder, '--tokens', '1,2', '--out', path.join(dir, 'unsupported.bin')]);
    expect(unsupported.code).toBe(1);
    await expect(stat(path.join(dir, 'unsupported.bin'))).rejects.toThrow(/ENOENT/);
    expect(unsupported.stderr).toMatch(/error \[bad-model\]: config.json: Gemma2ForCausalLM is not supported: this engine runs LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, ExaoneForCausalLM/);

    await writeFile(path.join(folder, 'config.json'), JSON.stringify(config));
    const weights = await readFile(path.join(folder, 'model.safetensors'));
    await writeFile(path.join(folder, 'model.safetensors'), weights.subarray(0, weights.length - 100));
    const truncated = await cli(['logits', '--model', folder, '--tokens', '1,2', '--out', path.join(dir, 'x.bin')]);
    expect(truncated.code).toBe(1);
    expect(truncated.stderr).toMatch(/error \[bad-model\]/);
  });

  // What a user runs on their own GPU; here on this machine's adapter. Its checks and tolerances
  // are the forward-pass tests' (model/logit-checks.ts); this keeps the command itself passing.
  it('selftest passes every check on this adapter', async () => {
    const result = await cli(['selftest']);
    expect(result.stderr).not.toMatch(/self-test check\(s\) failed/);
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n').filter((line) => /^(ok|FAIL)/.test(line));
    expect(lines).toHaveLength(2 * 5); // per model: f32, f16 with each KV cache, q4, golden greedy
    expect(lines.filter((line) => line.startsWith('FAIL'))).toEqual([]);
  });
});
