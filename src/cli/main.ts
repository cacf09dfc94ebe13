/**
 * The Node CLI: the engine's scripting and test surface, on the same code the browser runs.
 *   tokenize --model M --text T
 *   logits   --model M (--text T | --tokens 1,2,3) --out FILE [--dtype f32|f16|q4]
 *   generate --model M --prompt T [--template vicuna|raw] [--system S] [--max-new-tokens N]
 *            [--temperature T] [--top-k K] [--top-p P] [--repetition-penalty R] [--seed S]
 *            [--dtype f32|f16|q4] [--json]
 * Results go to stdout; progress and diagnostics to stderr.
 */
import { writeFile } from 'node:fs/promises';
import { ChatEngine } from '../chat/engine';
import { openRepo, readRepoFiles } from '../chat/repo';
import { checkpointWeights } from '../model/load-weights';
import { EngineError, toErrorData } from '../errors';
import { requestNodeAdapter } from '../gpu/node-gpu';
import { createGpu, type Gpu } from '../gpu/runtime';
import { dtypeFlag, numberFlag, parseFlags, requireString, tokenListFlag } from './args';
import { openModelSource } from './model-source';

const USAGE = `usage: npm run -s cli -- <command> [flags]
  tokenize --model DIR|org/name --text TEXT
  logits   --model DIR|org/name (--text TEXT | --tokens 1,2,3) --out FILE [--dtype f32|f16|q4]
  generate --model DIR|org/name --prompt TEXT [--template vicuna|raw] [--system TEXT]
           [--max-new-tokens N] [--temperature T] [--top-k K] [--top-p P]
           [--repetition-penalty R] [--seed S] [--dtype f32|f16|q4] [--json]`;

const MODEL_FLAGS = { model: 'string', revision: 'string', 'cache-dir': 'string' } as const;

async function openGpu(): Promise<Gpu> {
  const gpu = await createGpu(await requestNodeAdapter(), 'cli');
  const { adapter } = gpu.context;
  process.stderr.write(`GPU: ${adapter.description}${adapter.isFallback ? ' (software: slow)' : ''}\n`);
  return gpu;
}

function progressPrinter(): (p: { doneBytes: number; totalBytes: number }) => void {
  let lastPercent = -1;
  return ({ doneBytes, totalBytes }) => {
    const percent = Math.floor((100 * doneBytes) / Math.max(1, totalBytes));
    if (percent !== lastPercent && process.stderr.isTTY) process.stderr.write(`\rloading weights ${percent}%`);
    if (percent === 100 && process.stderr.isTTY) process.stderr.write('\n');
    lastPercent = percent;
  };
}

async function tokenize(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, { ...MODEL_FLAGS, text: 'string' });
  const source = await openModelSource(flags);
  const { tokenizer } = await readRepoFiles(source);
  process.stdout.write(`${JSON.stringify({ ids: tokenizer.encode(requireString(flags, 'text'), { addBos: true }) })}\n`);
}

async function logits(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, { ...MODEL_FLAGS, text: 'string', tokens: 'string', out: 'string', dtype: 'string' });
  const out = requireString(flags, 'out');
  const dtype = dtypeFlag(flags, 'f32');
  if ((flags.text === undefined) === (flags.tokens === undefined)) throw new EngineError('bad-input', 'give exactly one of --text and --tokens');
  const source = await openModelSource(flags);
  const repo = await openRepo(source);
  const tokens = typeof flags.tokens === 'string' ? tokenListFlag(flags.tokens) : repo.tokenizer.encode(requireString(flags, 'text'), { addBos: true });
  const maxChunk = Math.min(tokens.length, 256);
  const gpu = await openGpu();
  const engine = await ChatEngine.fromRepo(gpu, repo, checkpointWeights(repo.tensors, source), { dtype, maxChunk, logitsRows: maxChunk, contextLength: tokens.length, onProgress: progressPrinter() });
  try {
    const values = await engine.model.logits(tokens);
    await writeFile(out, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    process.stdout.write(`${JSON.stringify({ tokens: tokens.length, vocab: repo.config.vocabSize })}\n`);
  } finally {
    engine.dispose();
  }
}

async function generate(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, {
    ...MODEL_FLAGS,
    prompt: 'string',
    template: 'string',
    system: 'string',
    'max-new-tokens': 'string',
    temperature: 'string',
    'top-k': 'string',
    'top-p': 'string',
    'repetition-penalty': 'string',
    seed: 'string',
    dtype: 'string',
    'context-length': 'string',
    json: 'boolean',
  });
  const prompt = requireString(flags, 'prompt');
  const template = flags.template ?? 'vicuna';
  if (template !== 'vicuna' && template !== 'raw') throw new EngineError('bad-input', `--template must be vicuna or raw, got ${JSON.stringify(template)}`);
  const settings = {
    template,
    systemPrompt: typeof flags.system === 'string' ? flags.system : undefined,
    maxNewTokens: numberFlag(flags, 'max-new-tokens', 256, (n) => Number.isInteger(n) && n > 0, 'a positive integer'),
    temperature: numberFlag(flags, 'temperature', 0, (n) => n >= 0 && n <= 10, 'in [0, 10] (0 = greedy)'),
    topK: numberFlag(flags, 'top-k', 0, (n) => Number.isInteger(n) && n >= 0, 'a non-negative integer (0 = off)'),
    topP: numberFlag(flags, 'top-p', 1, (n) => n > 0 && n <= 1, 'in (0, 1]'),
    repetitionPenalty: numberFlag(flags, 'repetition-penalty', 1, (n) => n > 0 && n <= 10, 'in (0, 10]'),
    seed: numberFlag(flags, 'seed', 0, (n) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff, 'a 32-bit unsigned integer'),
  } as const;
  const contextLength = numberFlag(flags, 'context-length', 2048, (n) => Number.isInteger(n) && n > 1, 'an integer > 1');
  const dtype = dtypeFlag(flags, 'q4');
  const source = await openModelSource(flags);
  const repo = await openRepo(source);
  const gpu = await openGpu();
  const engine = await ChatEngine.fromRepo(gpu, repo, checkpointWeights(repo.tensors, source), { dtype, contextLength, onProgress: progressPrinter() });
  try {
    const json = flags.json === true;
    const result = await engine.chat([{ role: 'user', content: prompt }], settings, {
      onText: json ? undefined : (text) => process.stdout.write(text),
    });
    if (json) process.stdout.write(`${JSON.stringify({ ids: result.ids, text: result.text })}\n`);
    else process.stdout.write('\n');
    const decodeRate = result.decodedTokens / Math.max(result.decodeMs / 1000, 1e-9);
    process.stderr.write(
      `prompt ${result.promptTokens} tokens, prefill ${(result.prefilledTokens / (result.prefillMs / 1000)).toFixed(1)} tok/s; ` +
        `${result.ids.length} new tokens, decode ${decodeRate.toFixed(1)} tok/s; finished: ${result.finishReason}\n`,
    );
  } finally {
    engine.dispose();
  }
}

const COMMANDS: Record<string, (argv: string[]) => Promise<void>> = { tokenize, logits, generate };

/** Runs one command; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const run = command ? COMMANDS[command] : undefined;
  if (!run) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  try {
    await run(rest);
    return 0;
  } catch (error) {
    const data = toErrorData(error);
    process.stderr.write(`error [${data.code}]: ${data.message}\n`);
    if (data.code === 'internal' && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    return data.code === 'bad-input' ? 2 : 1;
  }
}
