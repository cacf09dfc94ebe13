/**
 * The Node CLI: the engine's scripting and test surface, on the same code the browser runs.
 *   tokenize --model M --text T
 *   logits   --model M (--text T | --tokens 1,2,3) --out FILE [--dtype f32|f16|q4]
 *   generate --model M --prompt T [--template auto|vicuna|raw] [--system S] [--max-new-tokens N]
 *            [--temperature T] [--top-k K] [--top-p P] [--repetition-penalty R] [--seed S]
 *            [--dtype f32|f16|q4] [--context-length N] [--json]
 *   chat     --model M --script FILE.jsonl [the flags of generate]: one {"user": ...} per line
 *   score, eval, serve: see score.ts, eval.ts, serve.ts
 * Results go to stdout; progress and diagnostics to stderr.
 */
import { writeFile } from 'node:fs/promises';
import { readRepoFiles } from '../chat/repo';
import { EngineError, toErrorData } from '../errors';
import { mib } from '../model/memory-plan';
import { bench } from './bench';
import { evaluate } from './eval';
import { selftest } from './selftest';
import { dtypeFlag, GENERATION_FLAGS, generationFlags, MODEL_FLAGS, parseFlags, requireString, textOrTokensFlag } from './args';
import { readChatScript, runChatScript } from './chat-script';
import { loadModel } from './load-model';
import { cacheStore, openModelLocation } from './model-source';
import { score } from './score';
import { serve } from './serve';

const USAGE = `usage: npm run -s cli -- <command> [flags]
  tokenize --model DIR|org/name --text TEXT
  logits   --model DIR|org/name (--text TEXT | --tokens 1,2,3) --out FILE [--dtype f32|f16|q4]
  score    --model DIR|org/name (--text TEXT | --tokens 1,2,3) [--dtype f32|f16|q4] [--json]
           ln p of each token after the ones before it, and the perplexity; dtype f32 by
           default, as logits (the reference precision; q4 scores what the app runs)
  generate --model DIR|org/name --prompt TEXT [--template auto|vicuna|raw] [--system TEXT]
           [--max-new-tokens N] [--temperature T] [--top-k K] [--top-p P]
           [--repetition-penalty R] [--seed S] [--dtype f32|f16|q4] [--context-length N] [--json]
  chat     --model DIR|org/name --script FILE.jsonl [the flags of generate]
           one conversation, one {"user": "..."} per line; one line per turn (JSON with --json)
  eval     --model A --model B ... --questions FILE --out results.jsonl [the flags of generate]
           every question (JSONL with "question", or one per line) through each model in turn
  serve    --model DIR|org/name [--model ...] [--host 127.0.0.1] [--port 8080] [--dtype q4|f16|f32]
           [--api-key KEY] [--context-length N] [--max-queue N] [--max-body-bytes N]
           an OpenAI-compatible server: /v1/chat/completions, /v1/completions, /v1/models, /health
  cache list | cache delete ID
  bench    [--shape tiny|7b] [--dtype q4|f16] [--variants old,new,dot,...] [--json] [--no-write] [--quick] [--sweep] [--native] [--fuse-norms] [--serve]
  selftest (checks this machine's adapter against the float64 reference)
Every --model also takes --revision REV (hub; default main) and --cache-dir DIR.
The hub endpoint comes from HF_ENDPOINT (default https://huggingface.co), a token from HF_TOKEN.`;

async function tokenize(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, { ...MODEL_FLAGS, text: 'string' });
  const text = requireString(flags, 'text');
  const location = await openModelLocation(flags);
  try {
    // Any cached copy of the repo (whatever its dtype) has the tokenizer: no network needed.
    const entry = (await location.cache?.list())?.find((e) => e.manifest.key.repo === location.repo && e.manifest.key.revision === location.revision);
    const cached = entry ? await location.cache!.open(entry.manifest.key) : null;
    const { tokenizer } = await readRepoFiles(cached?.files ?? location.source);
    await (cached?.files as { close?(): Promise<void> } | undefined)?.close?.();
    process.stdout.write(`${JSON.stringify({ ids: tokenizer.encode(text, { addBos: true }) })}\n`);
  } finally {
    await location.close();
  }
}

async function logits(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, { ...MODEL_FLAGS, text: 'string', tokens: 'string', out: 'string', dtype: 'string' });
  const out = requireString(flags, 'out');
  const dtype = dtypeFlag(flags, 'f32');
  const input = textOrTokensFlag(flags);
  const maxChunk = Math.min(input.bound, 256);
  const { engine, close } = await loadModel(flags, { dtype, maxChunk, logitsRows: maxChunk, contextLength: input.bound });
  try {
    const tokens = input.ids(engine.repo.tokenizer);
    const values = await engine.model.logits(tokens);
    await writeFile(out, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    process.stdout.write(`${JSON.stringify({ tokens: tokens.length, vocab: engine.repo.config.vocabSize })}\n`);
  } finally {
    engine.dispose();
    await close();
  }
}

async function generate(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, { ...MODEL_FLAGS, ...GENERATION_FLAGS, prompt: 'string' });
  const prompt = requireString(flags, 'prompt');
  const { settings, dtype, contextLength, json } = generationFlags(flags);
  const { engine, close } = await loadModel(flags, { dtype, contextLength });
  try {
    const result = await engine.chat([{ role: 'user', content: prompt }], settings, {
      onText: json ? undefined : (text) => process.stdout.write(text),
    });
    if (json) process.stdout.write(`${JSON.stringify({ ids: result.ids, text: result.text, prefillTokens: result.prefilledTokens, newTokens: result.ids.length })}\n`);
    else process.stdout.write('\n');
    if (result.notice) process.stderr.write(`warning: ${result.notice}\n`);
    const decodeRate = result.decodedTokens / Math.max(result.decodeMs / 1000, 1e-9);
    process.stderr.write(
      `prompt ${result.promptTokens} tokens, prefill ${(result.prefilledTokens / (result.prefillMs / 1000)).toFixed(1)} tok/s; ` +
        `${result.ids.length} new tokens, decode ${decodeRate.toFixed(1)} tok/s; finished: ${result.finishReason}\n`,
    );
  } finally {
    engine.dispose();
    await close();
  }
}

/** One conversation from a script of questions; one line (JSON with --json) per turn. */
async function chat(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, { ...MODEL_FLAGS, ...GENERATION_FLAGS, script: 'string' });
  const questions = await readChatScript(requireString(flags, 'script'));
  const { settings, dtype, contextLength, json } = generationFlags(flags);
  const { engine, close } = await loadModel(flags, { dtype, contextLength });
  try {
    await runChatScript(engine, questions, settings, {
      onAsk: json ? undefined : (question) => process.stdout.write(`USER: ${question}\nASSISTANT:`),
      onText: json ? undefined : (text) => process.stdout.write(text),
      onNotice: (notice) => process.stderr.write(`warning: ${notice}\n`),
      onTurn: (report) => {
        if (json) process.stdout.write(`${JSON.stringify(report)}\n`);
        else process.stdout.write('\n\n');
        const dropped = report.droppedTurns > 0 ? `, ${report.droppedTurns} oldest messages left out` : '';
        process.stderr.write(`turn ${report.turn}: prompt ${report.promptTokens} tokens, ${report.prefillTokens} prefilled${dropped}; ${report.newTokens} new tokens; ${report.ms} ms\n`);
      },
    });
  } finally {
    engine.dispose();
    await close();
  }
}

async function cache(argv: string[]): Promise<void> {
  const [action, ...rest] = argv;
  if (action === 'list') {
    const flags = parseFlags(rest, { 'cache-dir': 'string', json: 'boolean' });
    const store = cacheStore(flags);
    const entries = await store.list();
    // Unfinished downloads too: the next load of the same repo, revision and dtype continues them.
    const partials = await store.partials();
    if (flags.json) {
      const complete = entries.map((e) => ({ id: e.id, ...e.manifest.key, bytes: e.bytes, createdAt: e.manifest.createdAt }));
      const unfinished = partials.map((p) => ({ id: p.id, ...p.key, bytes: p.bytes, expectedBytes: p.expectedBytes, updatedAt: p.updatedAt, partial: true }));
      process.stdout.write(`${JSON.stringify([...complete, ...unfinished])}\n`);
      return;
    }
    process.stdout.write(`${store.description}\n`);
    for (const e of entries) process.stdout.write(`${e.id}\t${mib(e.bytes)}\t${e.manifest.createdAt}\n`);
    for (const p of partials) {
      const percent = Math.floor((100 * p.bytes) / Math.max(1, p.expectedBytes));
      process.stdout.write(`${p.id}\tpartial: ${mib(p.bytes)} of ${mib(p.expectedBytes)} (${percent}%)${p.live ? ', downloading now' : ''}\t${p.updatedAt}\n`);
    }
    if (entries.length + partials.length === 0) process.stdout.write('(no cached models)\n');
    return;
  }
  if (action === 'delete') {
    const [id, ...flagArgs] = rest;
    if (!id || id.startsWith('--')) throw new EngineError('bad-input', 'cache delete needs an entry id (see cache list)');
    const store = cacheStore(parseFlags(flagArgs, { 'cache-dir': 'string' }));
    const known = [...(await store.list()), ...(await store.partials())].some((e) => e.id === id);
    if (!known) throw new EngineError('not-found', `No cached model ${id}`);
    await store.delete(id);
    process.stdout.write(`deleted ${id}\n`);
    return;
  }
  throw new EngineError('bad-input', 'usage: cache list [--cache-dir DIR] [--json] | cache delete ID [--cache-dir DIR]');
}

const COMMANDS: Record<string, (argv: string[]) => Promise<void>> = { tokenize, logits, score, generate, chat, eval: evaluate, serve, cache, bench, selftest };

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
