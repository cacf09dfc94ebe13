/**
 * `npm run bench -- --serve`: the `serve` row. The benchmark's random-weight model (the same shape
 * and dtype as the rest of the run) behind serve's HTTP server on
 * 127.0.0.1, and plain HTTP clients streaming completions from it: time to first token (request
 * sent to the first text event) and tokens per second, for 1 client and for 4 at once. With one
 * answer at a time per model, 4 clients measure the queue: each waits for the answers before it.
 */
import { ChatEngine } from '../chat/engine';
import { readRepoFiles } from '../chat/repo';
import type { Gpu } from '../gpu/runtime';
import { MemorySource } from '../loader/sources/memory-source';
import { randomWeights } from '../model/random-weights';
import type { BenchPlan } from './bench-timing';
import { serveEngines } from './serve';

export interface ServeRow {
  clients: number;
  requests: number;
  /** Mean over the requests, from sending one to its first text (queueing included). */
  timeToFirstTokenMs: number;
  timeToFirstTokenMaxMs: number;
  /** All clients' tokens over the wall time of the batch. */
  tokensPerSecond: number;
  /** Each request's tokens over its own time from sending to the last event, averaged. */
  perClientTokensPerSecond: number;
}

export interface ServeBench {
  promptTokens: number;
  maxTokens: number;
  rows: ServeRow[];
}

interface Timed {
  firstMs: number;
  totalMs: number;
  tokens: number;
}

const MODEL = 'bench';

/**
 * A LLaMA-style tokenizer.json of `vocabSize` ids (unk, BOS, EOS, the 256 byte pieces, then
 * plain pieces) with no merges: random weights write noise in any vocabulary, and the benchmark
 * then needs no tokenizer file, as it needs no weights file.
 */
function benchTokenizerJson(vocabSize: number): string {
  const special = (id: number, content: string) => ({ id, content, special: true, lstrip: false, rstrip: false, normalized: false, single_word: false });
  const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  for (let byte = 0; byte < 256; byte++) vocab[`<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`] = 3 + byte;
  for (let id = 259; id < vocabSize; id++) vocab[`\u2581w${id}`] = id;
  return JSON.stringify({
    version: '1.0',
    added_tokens: [special(0, '<unk>'), special(1, '<s>'), special(2, '</s>')],
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '\u2581' }, { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' }] },
    pre_tokenizer: null,
    model: { type: 'BPE', unk_token: '<unk>', byte_fallback: true, fuse_unk: true, vocab, merges: [] },
  });
}

/** One streamed completion over HTTP, read as server-sent events. */
async function streamCompletion(url: string, prompt: number[], maxTokens: number): Promise<Timed> {
  const start = performance.now();
  const response = await fetch(`${url}/v1/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: MODEL, prompt, max_tokens: maxTokens, temperature: 0, stream: true, stream_options: { include_usage: true } }),
  });
  if (!response.ok || !response.body) throw new Error(`serve answered ${response.status}: ${await response.text()}`);
  let firstMs = NaN;
  let tokens = 0;
  let buffered = '';
  const decoder = new TextDecoder();
  for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(bytes, { stream: true });
    let end: number;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const event = buffered.slice(0, end).replace(/^data: /, '');
      buffered = buffered.slice(end + 2);
      if (event === '[DONE]') continue;
      const chunk = JSON.parse(event) as { choices: { text: string }[]; usage?: { completion_tokens: number } | null };
      if (Number.isNaN(firstMs) && chunk.choices[0]?.text) firstMs = performance.now() - start;
      if (chunk.usage) tokens = chunk.usage.completion_tokens;
    }
  }
  const totalMs = performance.now() - start;
  return { firstMs: Number.isNaN(firstMs) ? totalMs : firstMs, totalMs, tokens };
}

export async function benchServe(gpu: Gpu, configText: string, dtype: 'q4' | 'f16', plan: BenchPlan): Promise<ServeBench> {
  const promptTokens = plan.quick ? 4 : 128;
  const maxTokens = plan.quick ? 4 : 64;
  const rounds = plan.quick ? 1 : 3;
  const vocabSize = (JSON.parse(configText) as { vocab_size: number }).vocab_size;
  const files = { 'config.json': configText, 'tokenizer.json': benchTokenizerJson(vocabSize), 'tokenizer_config.json': JSON.stringify({ bos_token: '<s>', eos_token: '</s>' }) };
  const repo = await readRepoFiles(new MemorySource(Object.fromEntries(Object.entries(files).map(([name, text]) => [name, new TextEncoder().encode(text)]))));
  const engine = await ChatEngine.fromRepo(gpu, repo, randomWeights(11), { dtype, contextLength: 1024, maxChunk: plan.quick ? 16 : 256 });
  const server = await serveEngines(new Map([[MODEL, engine]]), { host: '127.0.0.1', port: 0, maxQueue: 64, maxBodyBytes: 1 << 20 });
  try {
    // A different prompt per request, as different users send: no request reuses another's KV cache.
    let salt = 0;
    const prompt = () => {
      salt++;
      return [1, ...Array.from({ length: promptTokens - 1 }, (_, i) => 3 + ((i * 7919 + salt * 104729) % 31990))];
    };
    await streamCompletion(server.url, prompt(), 2); // warm-up: pipelines, caches
    const rows: ServeRow[] = [];
    for (const clients of [1, 4]) {
      const timed: Timed[] = [];
      let wallMs = 0;
      for (let round = 0; round < rounds; round++) {
        const start = performance.now();
        timed.push(...(await Promise.all(Array.from({ length: clients }, () => streamCompletion(server.url, prompt(), maxTokens)))));
        wallMs += performance.now() - start;
      }
      const tokens = timed.reduce((sum, t) => sum + t.tokens, 0);
      rows.push({
        clients,
        requests: timed.length,
        timeToFirstTokenMs: timed.reduce((sum, t) => sum + t.firstMs, 0) / timed.length,
        timeToFirstTokenMaxMs: Math.max(...timed.map((t) => t.firstMs)),
        tokensPerSecond: tokens / (wallMs / 1000),
        perClientTokensPerSecond: timed.reduce((sum, t) => sum + t.tokens / (t.totalMs / 1000), 0) / timed.length,
      });
    }
    return { promptTokens, maxTokens, rows };
  } finally {
    await server.drain();
    engine.dispose();
  }
}

/** The serve section of a report (BENCHMARKS.md). */
export function renderServe(serve: ServeBench | undefined): string[] {
  if (!serve) return [];
  return [
    `serve: the same model behind \`serve\` (OpenAI API over HTTP on 127.0.0.1, streamed completions of ${serve.promptTokens}-token prompts, up to ${serve.maxTokens} new tokens, greedy; one answer at a time per model, so concurrent clients queue):`,
    '',
    '| clients | requests | time to first token, mean (ms) | max (ms) | tok/s, all clients | tok/s per client |',
    '|---:|---:|---:|---:|---:|---:|',
    ...serve.rows.map((r) => `| ${r.clients} | ${r.requests} | ${r.timeToFirstTokenMs.toFixed(0)} | ${r.timeToFirstTokenMaxMs.toFixed(0)} | ${r.tokensPerSecond.toPrecision(3)} | ${r.perClientTokensPerSecond.toPrecision(3)} |`),
    '',
  ];
}
