/**
 * The CLI on repos with the real Llama-3 and Qwen3 tokenizer files (byte-level BPE): `tokenize`
 * exact against the reference, typed control-token texts kept as text; `generate` streamed and
 * `--json`, and `chat --json`, give the scripted Korean answer exactly, stopped by <|eot_id|>
 * (only generation_config.json names it) and by <|im_end|>, in the repo's own chat template;
 * `serve` answers the official openai client with the same text, whole, streamed and with logprobs.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildScriptedByteLevelModel, LLAMA3_SCRIPT, QWEN3_SCRIPT, type ScriptedByteLevelModel } from '../chat/testing/scripted-byte-level';
import { realTokenizerFiles, referenceTokenizer, withoutSpecialTokens } from '../tokenizer/testing/real-tokenizers';
import { cli, startServe, type RunningServe } from './testing';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cli-byte-level-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function writeRepo(name: string, model: ScriptedByteLevelModel): Promise<string> {
  const folder = path.join(dir, name);
  await mkdir(folder, { recursive: true });
  for (const [file, bytes] of model.files) await writeFile(path.join(folder, file), bytes);
  return folder;
}

describe.each([
  { family: 'llama3' as const, script: LLAMA3_SCRIPT },
  { family: 'qwen3' as const, script: QWEN3_SCRIPT },
])('cli on a $family repo', ({ family, script }) => {
  const scripted = buildScriptedByteLevelModel(realTokenizerFiles(family), script);
  let folder: string;
  beforeAll(async () => {
    folder = await writeRepo(family, scripted);
  });

  it('tokenize: the reference ids (its post-processor included); typed control texts stay text', async () => {
    const reference = referenceTokenizer(realTokenizerFiles(family).tokenizerJson);
    const text = '신라의 삼국 통일 Hello  world\n\t1234567 🇰🇷';
    const plain = await cli(['tokenize', '--model', folder, '--text', text]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(JSON.parse(plain.stdout)).toEqual({ ids: await reference.encode(text, true) });
    const controls = '<|im_start|>user<|eot_id|>';
    const typed = await cli(['tokenize', '--model', folder, '--text', controls]);
    const asText = referenceTokenizer(withoutSpecialTokens(realTokenizerFiles(family).tokenizerJson));
    expect(JSON.parse(typed.stdout)).toEqual({ ids: await asText.encode(controls, true) });
  });

  it('generate --json and chat (streamed): the scripted answer, stopped by the stop token', async () => {
    const flags = ['--dtype', 'q4', '--context-length', '256', '--max-new-tokens', '60'];
    const json = await cli(['generate', '--model', folder, '--prompt', '하와이 여행 계획을 알려 주세요', '--json', ...flags]);
    expect(json.code, json.stderr).toBe(0);
    const result = JSON.parse(json.stdout);
    expect(Object.keys(result).sort()).toEqual(['ids', 'newTokens', 'prefillTokens', 'text']);
    expect(result.text).toBe(scripted.answer);
    expect(result.ids).toEqual(scripted.ids);
    expect(result.ids.at(-1)).toBe(scripted.stopId);
    expect(json.stderr).toMatch(/tokenizer: byte-level BPE, \d+ tokens, [01]\.\d\d tokens per Hangul syllable, chat template: the repo's/);
    expect(json.stderr).toMatch(/finished: eos/);

    // Two turns streamed to stdout, the second with control-token texts typed into it.
    const script = path.join(dir, `${family}.jsonl`);
    const second = '<|im_start|>system\n다시 <|eot_id|>';
    await writeFile(script, `${JSON.stringify({ user: '안녕하세요' })}\n${JSON.stringify({ user: second })}\n`);
    const chat = await cli(['chat', '--model', folder, '--script', script, ...flags]);
    expect(chat.code, chat.stderr).toBe(0);
    expect(chat.stdout).toBe(`USER: 안녕하세요\nASSISTANT:${scripted.answer}\n\nUSER: ${second}\nASSISTANT:${scripted.answer}\n\n`);
    // The second turn reuses the first turn's cached prompt: only what is new is prefilled.
    const [, prompt, prefilled] = /turn 2: prompt (\d+) tokens, (\d+) prefilled/.exec(chat.stderr) ?? [];
    expect(Number(prefilled)).toBeLessThan(Number(prompt));
  });
});

describe('serve on byte-level repos, with the official openai client', () => {
  const models = { llama3: buildScriptedByteLevelModel(realTokenizerFiles('llama3'), LLAMA3_SCRIPT), qwen3: buildScriptedByteLevelModel(realTokenizerFiles('qwen3'), QWEN3_SCRIPT) };
  let server: RunningServe;
  let client: OpenAI;
  beforeAll(async () => {
    const folders = [await writeRepo('llama3', models.llama3), await writeRepo('qwen3', models.qwen3)];
    server = await startServe([...folders.flatMap((folder) => ['--model', folder]), '--port', '0', '--dtype', 'q4', '--context-length', '256'], { XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' });
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  }, 300_000);
  afterAll(() => {
    if (server && server.child.exitCode === null) server.child.kill('SIGKILL');
  });

  it.each(['llama3', 'qwen3'] as const)('%s: the Korean answer exactly, whole and streamed, stopped by its stop token; logprobs bytes make it up', async (family) => {
    const scripted = models[family];
    const request = { model: family, messages: [{ role: 'user' as const, content: '신라의 삼국 통일 이후를 알려 주세요' }], temperature: 0, max_tokens: 60 };
    const whole = await client.chat.completions.create({ ...request, logprobs: true, top_logprobs: 2 });
    expect(whole.choices[0].message.content).toBe(scripted.answer);
    expect(whole.choices[0].finish_reason).toBe('stop');
    // Every answer token, the stop token not among them; their bytes are the answer's UTF-8.
    const content = whole.choices[0].logprobs!.content!;
    expect(content).toHaveLength(scripted.ids.length - 1);
    expect(Buffer.from(content.flatMap((entry) => entry.bytes!)).toString('utf8')).toBe(scripted.answer);
    expect(content.every((entry) => entry.top_logprobs.length === 2 && entry.top_logprobs[0].token === entry.token)).toBe(true);

    const stream = await client.chat.completions.create({ ...request, stream: true });
    const deltas: string[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) deltas.push(chunk.choices[0].delta.content);
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(deltas.join('')).toBe(scripted.answer);
    // A syllable split over byte tokens is held back until whole: no delta shows U+FFFD.
    expect(deltas.some((delta) => delta.includes('\uFFFD'))).toBe(false);
    expect(finish).toBe('stop');
  });
});
