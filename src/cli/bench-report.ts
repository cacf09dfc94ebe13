/**
 * The benchmark's report: its JSON shape (`bench --json`), its Markdown tables, and the section
 * of BENCHMARKS.md it writes (one per machine, shape, dtype and commit, so earlier runs stay as
 * history beside it).
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { KernelChoice } from '../model/llama';
import { mib } from '../model/memory-plan';
import { REPO_ROOT } from '../model/tiny-model-node';
import { Q4_GEMV_NAMES, type GemvRatio } from './bench-gemv';
import type { BenchPlan, Ceilings, KernelRow } from './bench-timing';
import type { NativeOutcome } from './bench-native';
import { renderServe, type ServeBench } from './bench-serve';

export interface EndToEnd {
  prompts: { tokens: number; ms: number; tokensPerSecond: number }[];
  timeToFirstTokenMs: number;
  /** Timed decode runs; `dispatches` is what the run's last step encoded. */
  decode: { context: number; tokens: number; tokensPerSecond: number; dispatches: number }[];
  /** Dispatches a decode step at each context encodes, counted without running it. */
  dispatches: { context: number; count: number }[];
  /** Dispatches of a decode step at the first counted context (128). */
  dispatchesPerToken: number;
  submitsPerToken: number;
  gpuBytes: number;
  peakHostBytes: number;
}

export interface BenchReport {
  adapter: string;
  /** What the machine is, where the adapter's name does not say (BENCH_MACHINE, e.g. from nvidia-smi). */
  machine?: string;
  software: boolean;
  /** WGSL's packed_4x8_integer_dot_product compiled: the int8 dot-product q4 GEMV ran. */
  packedDot: boolean;
  /** Subgroup matrices (matmul_sgmat.wgsl) were available, and in which WGSL syntax. */
  subgroupMatrix?: string;
  date: string;
  commit: string;
  shape: string;
  dtype: string;
  plan: BenchPlan;
  timestamps: boolean;
  ceilings: Ceilings;
  kernels: KernelRow[];
  /** q4 GEMV bytes/s over the f16 GEMV's on each layer shape (q4 runs). */
  gemvRatios: GemvRatio[];
  variants: { name: string; kernelChoice: KernelChoice; endToEnd: EndToEnd }[];
  /** The default variant's (`new`), else the first's. */
  endToEnd: EndToEnd;
  native?: NativeOutcome;
  /** `--serve`: the model behind serve's HTTP server, 1 and 4 clients. */
  serve?: ServeBench;
}

// Three significant figures below 1 (software adapters run at fractions of a token per second).
const fixed = (value: number | undefined, digits = 1) => (value === undefined ? '' : value < 1 ? value.toPrecision(3) : value.toFixed(digits));

const heading = (r: BenchReport) => `## ${r.machine ? `${r.machine}, ` : ''}${r.adapter} — ${r.shape}, ${r.dtype}, commit ${r.commit}`;

const PREFILL_TEXT: Record<KernelChoice['matmul'], string> = { tile: 'matmul.wgsl', reg: 'matmul_reg.wgsl', sgmat: 'matmul_sgmat.wgsl (q4, where the device has subgroup matrices; else matmul_reg.wgsl)' };

/** What a variant's decode step runs, in words (bench.ts VARIANTS). */
function describeKernels(k: KernelChoice, dtype: string): string {
  const fused = [
    k.fuseNorms && 'RMSNorm in the GEMV after it',
    k.fuseAttention && 'RoPE + KV store in split-K attention',
    k.fuseSwiglu && 'SwiGLU in the gate/up epilogue',
  ].filter(Boolean);
  const gemv = dtype === 'q4' ? `; q4 GEMV ${Q4_GEMV_NAMES[k.q4Gemv]}` : '';
  return `${fused.length ? `fused: ${fused.join(', ')}` : 'nothing fused'}${gemv}; prefill ${PREFILL_TEXT[k.matmul]}`;
}

export function renderReport(r: BenchReport): string {
  const variants = r.variants;
  const row = (label: string, cells: string[]) => `| ${label} | ${cells.join(' | ')} |`;
  const perVariant = (label: string, cell: (e: EndToEnd) => string) => row(label, variants.map((v) => cell(v.endToEnd)));
  const first = variants[0].endToEnd;
  const lines = [
    heading(r),
    '',
    `Measured ${r.date} at commit ${r.commit}${r.software ? ' (software adapter: short plan, see below)' : ''}; kernel times from ${r.timestamps ? 'GPU timestamp queries' : 'the wall clock'}, median of ${r.plan.samples}. WGSL packed_4x8_integer_dot_product: ${r.packedDot ? 'yes' : 'no (the int8 GEMV falls back to f32 dequant)'}. Subgroup matrices (f16 16x16x16 into f32): ${r.subgroupMatrix ? `yes (${r.subgroupMatrix})` : 'no (matmul_sgmat.wgsl falls back to matmul_reg.wgsl)'}.`,
    '',
    'Decode variants in this run: ' + variants.map((v) => `**${v.name}**${v.name === 'new' ? ' (the default)' : ''} — ${describeKernels(v.kernelChoice, r.dtype)}`).join('; ') + '.',
    '',
    `Ceilings: buffer copy ${fixed(r.ceilings.copyGBs)} GB/s (read + write), streaming read ${fixed(r.ceilings.readGBs)} GB/s, f32 FMA ${fixed(r.ceilings.fp32Gflops, 0)} GFLOP/s.`,
    '',
    '| kernel | shape | time (ms) | GB/s | GFLOP/s | % of limit |',
    '|---|---|---:|---:|---:|---:|',
    ...r.kernels.map((k) => `| ${k.kernel} | ${k.shape} | ${k.ms.toFixed(3)} | ${fixed(k.gbPerSecond)} | ${fixed(k.gflops)} | ${fixed(k.percentOfLimit)} |`),
    '',
    '% of limit: GEMV, attention, norm, RoPE, SwiGLU and sampling against the streaming-read bandwidth; matmul against the f32 FMA rate.',
    '',
    ...renderRatios(r.gemvRatios),
    row('end to end', variants.map((v) => v.name)),
    row('---', variants.map(() => '---:')),
    ...first.prompts.map((p, i) => perVariant(`prefill ${p.tokens}-token prompt`, (e) => `${fixed(e.prompts[i].tokensPerSecond)} tok/s (${e.prompts[i].ms.toFixed(0)} ms)`)),
    perVariant(`time to first token (${first.prompts[0].tokens}-token prompt)`, (e) => `${e.timeToFirstTokenMs.toFixed(0)} ms`),
    ...first.decode.map((d, i) => perVariant(`decode at context ${d.context} (${d.tokens} tokens)`, (e) => `${fixed(e.decode[i].tokensPerSecond, 2)} tok/s`)),
    ...first.dispatches.map((d, i) => perVariant(`dispatches per decoded token at context ${d.context}`, (e) => `${e.dispatches[i].count}`)),
    perVariant('submits / 4-byte read-backs per decoded token', (e) => `${e.submitsPerToken} / 1`),
    perVariant('GPU memory (weights + KV cache + activations)', (e) => mib(e.gpuBytes)),
    perVariant('peak host memory (process RSS so far)', (e) => mib(e.peakHostBytes)),
    '',
    ...renderNative(r),
    ...renderServe(r.serve),
  ];
  return lines.join('\n');
}

function renderRatios(ratios: GemvRatio[]): string[] {
  if (ratios.length === 0) return [];
  const kernels = ratios[0].q4.map((q) => q.kernel);
  return [
    'q4 GEMV bytes/s over the f16 GEMV bytes/s on the same shape, same run (1.0 = the q4 kernel streams its bytes as fast as f16 does):',
    '',
    `| shape | f16 GB/s | ${kernels.map((k) => `q4 ${k} GB/s | ratio`).join(' | ')} |`,
    `|---|---:|${kernels.map(() => '---:|---:').join('|')}|`,
    ...ratios.map((r) => `| ${r.key} ${r.shape} | ${fixed(r.f16GBs)} | ${r.q4.map((q) => `${fixed(q.gbPerSecond)} | ${q.ratio.toFixed(2)}`).join(' | ')} |`),
    '',
  ];
}

function renderNative(r: BenchReport): string[] {
  if (!r.native) return [];
  if ('unavailable' in r.native) return [`Native comparison: not run (${r.native.unavailable}).`, ''];
  const { result } = r.native;
  const ours = (pick: (e: EndToEnd) => number | undefined) => r.variants.map((v) => pick(v.endToEnd));
  const rows = [
    ...result.prompts.map((p, i) => [`prefill ${p.tokens}-token prompt`, ours((e) => e.prompts[i]?.tokensPerSecond), p.tokensPerSecond] as const),
    ...result.decode.map((d, i) => [`decode at context ${d.context}`, ours((e) => e.decode[i]?.tokensPerSecond), d.tokensPerSecond] as const),
  ];
  const names = r.variants.map((v) => v.name);
  return [
    `Same shape, same run, against ${result.engine} on a random Q4_0 GGUF (f16 embeddings and output, as ours):`,
    '',
    `| tok/s | ${names.join(' | ')} | native | ${names.map((n) => `ratio (${n})`).join(' | ')} |`,
    `|---|${names.map(() => '---:').join('|')}|---:|${names.map(() => '---:').join('|')}|`,
    ...rows.map(([label, values, native]) => `| ${label} | ${values.map((v) => fixed(v)).join(' | ')} | ${fixed(native)} | ${values.map((v) => (v ? (v / native).toFixed(2) : '')).join(' | ')} |`),
    '',
  ];
}

/** Replaces this machine/shape/dtype/commit's section of BENCHMARKS.md, keeping every other. */
export async function writeBenchmarks(report: BenchReport, file = `${REPO_ROOT}/BENCHMARKS.md`): Promise<void> {
  const header = '# Benchmarks\n\nWritten by `npm run bench` (see src/cli/bench.ts). Every number below was measured on the adapter named in its heading; none is estimated.\n';
  const existing = await readFile(file, 'utf8').catch(() => '');
  const sections = (existing.startsWith('# Benchmarks') ? existing : header).split(/^(?=## )/m);
  const kept = sections.filter((s, i) => i === 0 || !s.startsWith(`${heading(report)}\n`));
  kept.push(renderReport(report));
  await writeFile(file, `${kept.map((s) => s.trimEnd()).join('\n\n')}\n`);
}
