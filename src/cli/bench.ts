/**
 * `npm run bench -- [--shape tiny|7b] [--dtype q4|f16] [--variants old,new,dot,...] [--json]
 * [--no-write] [--quick] [--sweep] [--native] [--serve]`: measures the device's ceilings, every kernel at
 * the model's shapes and the model end to end with random weights generated on the GPU (no
 * download), for each decode-kernel variant side by side, then writes the tables to
 * BENCHMARKS.md with the adapter, date and commit. Software adapters (SwiftShader) get a short
 * plan, said in the table. `--serve` adds the model behind `serve`'s HTTP server (bench-serve.ts).
 */
import { execFileSync } from 'node:child_process';
import { EngineError } from '../errors';
import { requestNodeAdapter } from '../gpu/node-gpu';
import { createGpu, type Gpu } from '../gpu/runtime';
import { PassTimer } from '../gpu/timing';
import { parseConfig, type LlamaConfig } from '../model/config';
import { allFused, DEFAULT_KERNELS, GREEDY, LlamaModel, type KernelChoice } from '../model/llama';
import { randomWeights } from '../model/random-weights';
import { REPO_ROOT } from '../model/tiny-model-node';
import { dtypeFlag, parseFlags } from './args';
import { sweepGemv } from './bench-gemv';
import { benchKernels } from './bench-kernels';
import { measureCeilings, rowTimer, type BenchPlan } from './bench-timing';
import { benchNative } from './bench-native';
import { benchServe } from './bench-serve';
import { renderReport, writeBenchmarks, type BenchReport, type EndToEnd } from './bench-report';

const SHAPES: Record<string, object> = {
  '7b': { hidden_size: 4096, intermediate_size: 11008, num_hidden_layers: 32, num_attention_heads: 32, vocab_size: 32000 },
  tiny: { hidden_size: 256, intermediate_size: 704, num_hidden_layers: 4, num_attention_heads: 8, vocab_size: 32000 },
};

/**
 * The kernel variants the benchmark can set side by side. `old` is the path before issue 12 (324
 * dispatches a 7B token, the f32-dequantising q4 GEMV); `new` is the default (DEFAULT_KERNELS);
 * `dot` is the int8 q4 GEMV with nothing fused and `dot-norms-swiglu` all but the attention
 * fusion, so a GPU run shows what RoPE and the KV store inside split-K attention save;
 * `matmul-reg` and `matmul-sgmat` are the default with the other prefill matmuls
 * (matmul_reg.wgsl; matmul_sgmat.wgsl for q4 on the matrix units where the device has them):
 * neither has run on a GPU yet, so neither is the default. (The H200 run at commit 9afe840
 * settled the rest: RMSNorm inside the GEMV and SwiGLU in its epilogue won; the one-pass GQA
 * attention lost at every context and is gone.)
 */
export const VARIANTS: Record<string, KernelChoice> = {
  old: allFused(false, 'f32'),
  new: DEFAULT_KERNELS,
  dot: allFused(false, 'dot'),
  'dot-norms-swiglu': { ...allFused(true, 'dot'), fuseAttention: false },
  'matmul-reg': { ...DEFAULT_KERNELS, matmul: 'reg' },
  'matmul-sgmat': { ...DEFAULT_KERNELS, matmul: 'sgmat' },
};

// The short plan (software adapters) keeps prompts within the batched GEMV (<= 4 tokens): a
// 7B matmul on SwiftShader takes minutes per chunk.
const promptLengths = (plan: BenchPlan) => (plan.quick ? [2, 4] : [128, 512]);
const decodeRuns = (plan: BenchPlan): [number, number][] => (plan.quick ? [[4, 2]] : [[128, 64], [1900, 64]]);
/** Decode positions whose dispatches are counted in every plan (without running them). */
const COUNTED_CONTEXTS = [128, 1900];

async function endToEnd(gpu: Gpu, config: LlamaConfig, dtype: 'q4' | 'f16', plan: BenchPlan, kernelChoice: KernelChoice): Promise<EndToEnd> {
  // 2048 positions in every plan, so the dispatches of a step at context 1900 can be counted.
  const contextLength = 2048;
  const maxChunk = plan.quick ? 16 : 512;
  let peakHostBytes = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakHostBytes = Math.max(peakHostBytes, process.memoryUsage().rss)), 50);
  const model = await LlamaModel.load(gpu, config, randomWeights(11), { dtype, contextLength, maxChunk, kernelChoice });
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
      decode.push({ context, tokens: count, tokensPerSecond: count / ((performance.now() - start) / 1000), dispatches: model.dispatchesPerDecode });
    };
    for (const [context, count] of decodeRuns(plan)) await decodeRun(context, count);
    const dispatches = COUNTED_CONTEXTS.map((context) => ({ context, count: model.countDecodeDispatches(context) }));
    return {
      prompts,
      timeToFirstTokenMs: prompts[0].ms,
      decode,
      dispatches,
      dispatchesPerToken: dispatches[0].count,
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

function variantsFlag(value: unknown): string[] {
  // --fuse-norms predates the variants; the default (new) fuses the norms, so it asks for that.
  if (value === undefined) return ['new'];
  const names = String(value).split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !VARIANTS[name]);
  if (names.length === 0 || unknown.length > 0) throw new EngineError('bad-input', `--variants takes a comma-separated list of ${Object.keys(VARIANTS).join(', ')}; got ${JSON.stringify(value)}`);
  return [...new Set(names)];
}

export async function bench(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, { shape: 'string', dtype: 'string', variants: 'string', json: 'boolean', 'no-write': 'boolean', quick: 'boolean', sweep: 'boolean', native: 'boolean', 'fuse-norms': 'boolean', serve: 'boolean' });
  const shape = typeof flags.shape === 'string' ? flags.shape : '7b';
  if (!SHAPES[shape]) throw new EngineError('bad-input', `--shape must be ${Object.keys(SHAPES).join(' or ')}`);
  const dtype = dtypeFlag(flags, 'q4');
  if (dtype === 'f32') throw new EngineError('bad-input', 'bench measures q4 and f16 (f32 is for correctness tests)');
  let variants = variantsFlag(flags.variants);
  // f16 has one GEMV kernel: variants that differ only in the q4 GEMV are the same model there
  // (`fused` and `new`, `old` and `dot`); the later of each pair stays.
  if (dtype === 'f16') {
    const fusions = (name: string) => JSON.stringify({ ...VARIANTS[name], q4Gemv: undefined });
    variants = variants.filter((name, i) => !variants.slice(i + 1).some((later) => fusions(later) === fusions(name)));
  }
  const configText = JSON.stringify({ model_type: 'llama', ...SHAPES[shape] });
  const config = parseConfig(configText);
  const gpu = await createGpu(await requestNodeAdapter(), 'bench');
  const { adapter } = gpu.context;
  const quick = flags.quick === true || adapter.isFallback;
  // Three samples even in the short plan: a software adapter shares its CPU with everything else.
  const plan: BenchPlan = { quick, samples: quick ? 3 : 9, prefillTokens: quick ? 16 : 512 };
  process.stderr.write(`bench ${shape} ${dtype} [${variants.join(', ')}] on ${adapter.description}${quick ? ' (short plan)' : ''}\n`);
  const timer = new PassTimer(gpu.device, gpu.context.hasTimestamps);
  const ceilings = await measureCeilings(gpu, timer, plan);
  process.stderr.write(`ceilings ${JSON.stringify(ceilings)}\n`);
  const time = rowTimer(gpu, timer, ceilings, plan);
  if (flags.sweep) {
    for (const row of await sweepGemv(gpu, config, dtype, time)) {
      process.stdout.write(`${row.kernel.padEnd(64)} ${row.shape.padEnd(11)} ${row.ms.toFixed(4)} ms ${row.gbPerSecond!.toPrecision(4)} GB/s ${row.percentOfLimit!.toPrecision(3)}%\n`);
    }
    return;
  }
  // What each variant really runs here: without the WGSL feature the int8 GEMV falls back to f32.
  const chosen = variants.map((name): KernelChoice => ({ ...VARIANTS[name], q4Gemv: VARIANTS[name].q4Gemv === 'dot' && !gpu.packedDot ? 'f32' : VARIANTS[name].q4Gemv }));
  const { rows: kernels, ratios } = await benchKernels(gpu, time, config, dtype, plan, chosen);
  process.stderr.write(`kernels done\n`);
  const runs: BenchReport['variants'] = [];
  for (const name of variants) {
    runs.push({ name, kernelChoice: VARIANTS[name], endToEnd: await endToEnd(gpu, config, dtype, plan, VARIANTS[name]) });
    process.stderr.write(`end to end (${name}) done\n`);
  }
  const report: BenchReport = {
    adapter: `${adapter.description}${adapter.architecture ? ` (${adapter.vendor} ${adapter.architecture})` : ''}`,
    machine: process.env.BENCH_MACHINE,
    software: adapter.isFallback,
    packedDot: gpu.packedDot,
    subgroupMatrix: gpu.subgroupMatrix && `${gpu.subgroupMatrix.accessor}, subgroup size ${gpu.subgroupMatrix.subgroupSize}`,
    date: new Date().toISOString().slice(0, 10),
    commit: commitOf(),
    shape,
    dtype,
    plan,
    timestamps: timer.usesTimestamps,
    ceilings,
    kernels,
    gemvRatios: ratios,
    variants: runs,
    endToEnd: (runs.find((run) => run.name === 'new') ?? runs[0]).endToEnd,
    ...(flags.native ? { native: await benchNative(config, promptLengths(plan), decodeRuns(plan)) } : {}),
    ...(flags.serve ? { serve: await benchServe(gpu, configText, dtype, plan) } : {}),
  };
  timer.destroy();
  if (flags.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else process.stdout.write(renderReport(report));
  if (!flags['no-write']) await writeBenchmarks(report);
}
