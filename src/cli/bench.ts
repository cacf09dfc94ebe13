/**
 * `npm run bench -- [--shape tiny|7b] [--dtype q4|f16] [--json] [--no-write]`: measures the
 * device's ceilings, every kernel at the model's shapes, and the model end to end with random
 * weights generated on the GPU (no download), then writes the tables to BENCHMARKS.md with the
 * adapter, date and commit. Software adapters (SwiftShader) get a short plan, said in the table.
 */
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { EngineError } from '../errors';
import { requestNodeAdapter } from '../gpu/node-gpu';
import { createGpu, type Gpu } from '../gpu/runtime';
import { PassTimer } from '../gpu/timing';
import { parseConfig, type LlamaConfig } from '../model/config';
import { GREEDY, LlamaModel } from '../model/llama';
import { mib } from '../model/memory-plan';
import { randomWeights } from '../model/random-weights';
import { REPO_ROOT } from '../model/tiny-model-node';
import { dtypeFlag, parseFlags } from './args';
import { benchNative, type NativeOutcome } from './bench-native';
import { benchKernels, measureCeilings, sweepGemv, type BenchPlan, type Ceilings, type KernelRow } from './bench-kernels';

const SHAPES: Record<string, object> = {
  '7b': { hidden_size: 4096, intermediate_size: 11008, num_hidden_layers: 32, num_attention_heads: 32, vocab_size: 32000 },
  tiny: { hidden_size: 256, intermediate_size: 704, num_hidden_layers: 4, num_attention_heads: 8, vocab_size: 32000 },
};

interface EndToEnd {
  prompts: { tokens: number; ms: number; tokensPerSecond: number }[];
  timeToFirstTokenMs: number;
  decode: { context: number; tokens: number; tokensPerSecond: number }[];
  dispatchesPerToken: number;
  submitsPerToken: number;
  gpuBytes: number;
  peakHostBytes: number;
}

export interface BenchReport {
  adapter: string;
  software: boolean;
  date: string;
  commit: string;
  shape: string;
  dtype: string;
  plan: BenchPlan;
  timestamps: boolean;
  ceilings: Ceilings;
  kernels: KernelRow[];
  endToEnd: EndToEnd;
  native?: NativeOutcome;
}

// The short plan (software adapters) keeps prompts within the batched GEMV (<= 4 tokens): a
// 7B matmul on SwiftShader takes minutes per chunk.
const promptLengths = (plan: BenchPlan) => (plan.quick ? [2, 4] : [128, 512]);
const decodeRuns = (plan: BenchPlan): [number, number][] => (plan.quick ? [[4, 2]] : [[128, 64], [1900, 64]]);

async function endToEnd(gpu: Gpu, config: LlamaConfig, dtype: 'q4' | 'f16', plan: BenchPlan, fuseNorms: boolean): Promise<EndToEnd> {
  const contextLength = plan.quick ? 64 : 2048;
  const maxChunk = plan.quick ? 16 : 512;
  let peakHostBytes = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakHostBytes = Math.max(peakHostBytes, process.memoryUsage().rss)), 50);
  const model = await LlamaModel.load(gpu, config, randomWeights(11), { dtype, contextLength, maxChunk, ...(fuseNorms ? { decodeKernels: { fused: true } } : {}) });
  try {
    const tokens = (n: number, salt = 0) => Array.from({ length: n }, (_, i) => 1 + ((i * 7919 + salt) % (config.vocabSize - 1)));
    const prompts: EndToEnd['prompts'] = [];
    for (const n of promptLengths(plan)) {
      await model.prefill(tokens(plan.quick ? 1 : 8), 0, GREEDY); // warm-up: pipelines, caches
      const start = performance.now();
      await model.prefill(tokens(n), 0, GREEDY);
      const ms = performance.now() - start;
      prompts.push({ tokens: n, ms, tokensPerSecond: n / (ms / 1000) });
    }
    const decode: EndToEnd['decode'] = [];
    // As the chat loop runs it: the next step is submitted before the previous one is read.
    const decodeRun = async (context: number, count: number) => {
      await model.prefill(tokens(context, 3), 0, GREEDY);
      const start = performance.now();
      let pending = model.decode(context, GREEDY);
      for (let i = 1; i < count; i++) {
        const next = model.decode(context + i, GREEDY);
        await pending;
        pending = next;
      }
      await pending;
      decode.push({ context, tokens: count, tokensPerSecond: count / ((performance.now() - start) / 1000) });
    };
    for (const [context, count] of decodeRuns(plan)) await decodeRun(context, count);
    return {
      prompts,
      timeToFirstTokenMs: prompts[0].ms,
      decode,
      dispatchesPerToken: model.dispatchesPerDecode,
      submitsPerToken: 1,
      gpuBytes: model.plan.totalBytes,
      peakHostBytes,
    };
  } finally {
    clearInterval(sampler);
    model.dispose();
  }
}

function commitOf(): string {
  if (process.env.BENCH_COMMIT) return process.env.BENCH_COMMIT; // a copied tree without .git (the GPU machine)
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown (not a git checkout)';
  }
}

// Three significant figures below 1 (software adapters run at fractions of a token per second).
const fixed = (value: number | undefined, digits = 1) => (value === undefined ? '' : value < 1 ? value.toPrecision(3) : value.toFixed(digits));

export function renderReport(r: BenchReport): string {
  const lines = [
    `## ${r.adapter} — ${r.shape}, ${r.dtype}`,
    '',
    `Measured ${r.date} at commit ${r.commit}${r.software ? ' (software adapter: short plan, see below)' : ''}; kernel times from ${r.timestamps ? 'GPU timestamp queries' : 'the wall clock'}, median of ${r.plan.samples}.`,
    '',
    `Ceilings: buffer copy ${fixed(r.ceilings.copyGBs)} GB/s (read + write), streaming read ${fixed(r.ceilings.readGBs)} GB/s, f32 FMA ${fixed(r.ceilings.fp32Gflops, 0)} GFLOP/s.`,
    '',
    '| kernel | shape | time (ms) | GB/s | GFLOP/s | % of limit |',
    '|---|---|---:|---:|---:|---:|',
    ...r.kernels.map((k) => `| ${k.kernel} | ${k.shape} | ${k.ms.toFixed(3)} | ${fixed(k.gbPerSecond)} | ${fixed(k.gflops)} | ${fixed(k.percentOfLimit)} |`),
    '',
    '% of limit: GEMV, attention, norm, RoPE and sampling against the streaming-read bandwidth; matmul against the f32 FMA rate.',
    '',
    '| end to end | value |',
    '|---|---:|',
    ...r.endToEnd.prompts.map((p) => `| prefill ${p.tokens}-token prompt | ${fixed(p.tokensPerSecond)} tok/s (${p.ms.toFixed(0)} ms) |`),
    `| time to first token (${r.endToEnd.prompts[0].tokens}-token prompt) | ${r.endToEnd.timeToFirstTokenMs.toFixed(0)} ms |`,
    ...r.endToEnd.decode.map((d) => `| decode at context ${d.context} (${d.tokens} tokens) | ${fixed(d.tokensPerSecond, 2)} tok/s |`),
    `| dispatches / submits per decoded token | ${r.endToEnd.dispatchesPerToken} / ${r.endToEnd.submitsPerToken} |`,
    `| GPU memory (weights + KV cache + activations) | ${mib(r.endToEnd.gpuBytes)} |`,
    `| peak host memory (RSS) | ${mib(r.endToEnd.peakHostBytes)} |`,
    '',
    ...renderNative(r),
  ];
  return lines.join('\n');
}

function renderNative(r: BenchReport): string[] {
  if (!r.native) return [];
  if ('unavailable' in r.native) return [`Native comparison: not run (${r.native.unavailable}).`, ''];
  const { result } = r.native;
  const rows = [
    ...result.prompts.map((p, i) => [`prefill ${p.tokens}-token prompt`, r.endToEnd.prompts[i]?.tokensPerSecond, p.tokensPerSecond] as const),
    ...result.decode.map((d, i) => [`decode at context ${d.context}`, r.endToEnd.decode[i]?.tokensPerSecond, d.tokensPerSecond] as const),
  ];
  return [
    `Same shape, same run, against ${result.engine} on a random Q4_0 GGUF (f16 embeddings and output, as ours):`,
    '',
    '| tok/s | this engine | native | ratio |',
    '|---|---:|---:|---:|',
    ...rows.map(([label, ours, native]) => `| ${label} | ${fixed(ours)} | ${fixed(native)} | ${ours ? (ours / native).toFixed(2) : ''} |`),
    '',
  ];
}

/** Replaces this adapter/shape/dtype's section of BENCHMARKS.md, keeping the others. */
export async function writeBenchmarks(report: BenchReport, file = `${REPO_ROOT}/BENCHMARKS.md`): Promise<void> {
  const header = '# Benchmarks\n\nWritten by `npm run bench` (see src/cli/bench.ts). Every number below was measured on the adapter named in its heading; none is estimated.\n';
  const existing = await readFile(file, 'utf8').catch(() => '');
  const sections = (existing.startsWith('# Benchmarks') ? existing : header).split(/^(?=## )/m);
  const heading = `## ${report.adapter} — ${report.shape}, ${report.dtype}`;
  const kept = sections.filter((s, i) => i === 0 || !s.startsWith(heading));
  kept.push(renderReport(report));
  await writeFile(file, `${kept.map((s) => s.trimEnd()).join('\n\n')}\n`);
}

export async function bench(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, { shape: 'string', dtype: 'string', json: 'boolean', 'no-write': 'boolean', quick: 'boolean', sweep: 'boolean', native: 'boolean', 'fuse-norms': 'boolean' });
  const shape = typeof flags.shape === 'string' ? flags.shape : '7b';
  if (!SHAPES[shape]) throw new EngineError('bad-input', `--shape must be ${Object.keys(SHAPES).join(' or ')}`);
  const dtype = dtypeFlag(flags, 'q4');
  if (dtype === 'f32') throw new EngineError('bad-input', 'bench measures q4 and f16 (f32 is for correctness tests)');
  const config = parseConfig(JSON.stringify({ model_type: 'llama', ...SHAPES[shape] }));
  const gpu = await createGpu(await requestNodeAdapter(), 'bench');
  const { adapter } = gpu.context;
  const quick = flags.quick === true || adapter.isFallback;
  const plan: BenchPlan = { quick, samples: quick ? 1 : 9, prefillTokens: quick ? 16 : 512 };
  process.stderr.write(`bench ${shape} ${dtype} on ${adapter.description}${quick ? ' (short plan)' : ''}\n`);
  const timer = new PassTimer(gpu.device, gpu.context.hasTimestamps);
  const ceilings = await measureCeilings(gpu, timer, plan);
  process.stderr.write(`ceilings ${JSON.stringify(ceilings)}\n`);
  if (flags.sweep) {
    for (const row of await sweepGemv(gpu, timer, config, dtype, ceilings)) {
      process.stdout.write(`${row.kernel.padEnd(44)} ${row.shape.padEnd(11)} ${row.ms.toFixed(4)} ms ${row.gbPerSecond!.toFixed(0)} GB/s ${row.percentOfLimit!.toFixed(1)}%\n`);
    }
    return;
  }
  const kernels = await benchKernels(gpu, timer, config, dtype, ceilings, plan);
  process.stderr.write(`kernels done\n`);
  const report: BenchReport = {
    adapter: `${adapter.description}${adapter.architecture ? ` (${adapter.vendor} ${adapter.architecture})` : ''}`,
    software: adapter.isFallback,
    date: new Date().toISOString().slice(0, 10),
    commit: commitOf(),
    shape,
    dtype,
    plan,
    timestamps: timer.usesTimestamps,
    ceilings,
    kernels,
    endToEnd: await endToEnd(gpu, config, dtype, plan, flags['fuse-norms'] === true),
    ...(flags.native ? { native: await benchNative(config, promptLengths(plan), decodeRuns(plan)) } : {}),
  };
  timer.destroy();
  if (flags.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else process.stdout.write(renderReport(report));
  if (!flags['no-write']) await writeBenchmarks(report);
}
