/**
 * Kernel benchmarks at a model's real shapes: each kernel's time with its GB/s or GFLOP/s as a
 * share of the ceiling that bounds it (bench-timing.ts measures both). Run through the same ops
 * the forward pass uses.
 */
import { attentionOp, attentionPartialsBytes, ropeKvOp } from '../gpu/attention-op';
import { STORAGE, createBuffer, createBufferWith } from '../gpu/buffers';
import { singleMatrix } from '../gpu/row-blocks';
import { linearOp } from '../gpu/linear-op';
import { rmsnormOp, sampleOp, swigluOp } from '../gpu/ops';
import type { Gpu } from '../gpu/runtime';
import { KV_BYTES_PER_ELEMENT, type WeightFormat } from '../gpu/shaders';
import type { LlamaConfig } from '../model/config';
import type { KernelChoice } from '../model/llama';
import { loadWeights } from '../model/load-weights';
import { randomWeights } from '../model/random-weights';
import { ropeTable } from '../model/rope';
import { kvFormatFor } from '../model/weights';
import { benchGemvs, benchLayout, headFormatOf, layerShapes, type GemvRatio } from './bench-gemv';
import type { BenchPlan, KernelRow, RowTimer } from './bench-timing';

const PREFILL_NAMES: Record<string, string> = { 'matmul.wgsl': '4x4 tiles', 'matmul_reg.wgsl': '4x8 registers', 'matmul_sgmat.wgsl': 'subgroup matrix' };

/** Times each kernel of the forward pass at `config`'s shapes, old and new where both run. */
export async function benchKernels(gpu: Gpu, time: RowTimer, config: LlamaConfig, format: WeightFormat, plan: BenchPlan, variants: KernelChoice[]): Promise<{ rows: KernelRow[]; ratios: GemvRatio[] }> {
  const { device } = gpu;
  const { step } = time;
  const d = config.hiddenSize;
  const inter = config.intermediateSize;
  const qDim = config.numHeads * config.headDim;
  const kvDim = config.numKvHeads * config.headDim;
  const weights = await loadWeights(gpu, randomWeights(3), benchLayout(config, format));
  const t = plan.prefillTokens;
  const maxContext = plan.quick ? 128 : 2048;
  const owned: GPUBuffer[] = [];
  const buffer = (label: string, bytes: number, usage = STORAGE) => {
    const made = createBuffer(device, label, bytes, usage);
    owned.push(made);
    return made;
  };
  const random = (count: number) => Float32Array.from({ length: count }, (_, i) => Math.sin(i * 12.9898) * 0.5);
  const x = createBufferWith(device, 'bench x', random(t * Math.max(d, inter, qDim + 2 * kvDim)));
  owned.push(x);
  const y = buffer('bench y', t * Math.max(config.vocabSize, 2 * inter) * 4);
  // [name, key in benchLayout, rows, cols, format]
  const shapes: [string, string, number, number, WeightFormat][] = [
    ...layerShapes(config).map(([name, rowsOut, cols]): [string, string, number, number, WeightFormat] => [name, `${format} ${name}`, rowsOut, cols, format]),
    ['lm_head', 'lm_head', config.vocabSize, d, headFormatOf(format)],
  ];
  try {
    const { rows, ratios } = await benchGemvs(gpu, config, format, weights, variants, time);
    // Each prefill matmul the variants run (as each matrix's format resolves it: see linear-op).
    const matmuls = [...new Set(variants.map((k) => k.matmul))];
    for (const [name, key, rowsOut, cols, f] of shapes) {
      const measured = new Set<string>();
      for (const matmul of matmuls) {
        const op = await linearOp(gpu, { label: name, step, x, weight: singleMatrix(weights.matrices.get(key)!), y, matmul });
        if (measured.has(op.prefillKernel)) continue;
        measured.add(op.prefillKernel);
        const kernel = matmuls.length > 1 ? `matmul ${f}, ${PREFILL_NAMES[op.prefillKernel] ?? op.prefillKernel}` : `matmul ${f}`;
        rows.push(await time(`${kernel} (${name}), ${t} tokens`, `${rowsOut}x${cols}`, op, t, { nTokens: t, pos0: 0 }, { flops: 2 * t * rowsOut * cols }));
      }
    }

    const heads = { nHeads: config.numHeads, nKvHeads: config.numKvHeads, headDim: config.headDim };
    const kvFormat = kvFormatFor(format);
    const kvElement = KV_BYTES_PER_ELEMENT[kvFormat];
    const kCache = buffer('bench k cache', maxContext * kvDim * kvElement);
    const vCache = buffer('bench v cache', maxContext * kvDim * kvElement);
    const q = buffer('bench q', t * qDim * 4);
    const out = buffer('bench attention out', t * qDim * 4);
    const partials = buffer('bench attention partials', attentionPartialsBytes(heads, maxContext));
    const rope = createBufferWith(device, 'bench rope', ropeTable(config.headDim, maxContext, config.ropeTheta));
    owned.push(rope);
    const attentionArgs = { label: 'attention', ...heads, step, q, kCache, vCache, kvFormat, out, partials, maxSeq: maxContext };
    const contexts = plan.quick ? [128] : [128, 1024, 2048];
    const cacheBytes = (context: number) => 2 * context * kvDim * kvElement;
    // The decode rows of the kernels some variant of this run uses.
    const some = (pick: (k: KernelChoice) => boolean) => variants.some(pick);
    if (some((k) => !k.fuseAttention)) {
      const split = await attentionOp(gpu, attentionArgs);
      for (const context of contexts) {
        rows.push(await time('attention decode (split-K)', `context ${context}`, split, 1, { nTokens: 1, pos0: context - 1 }, { bytes: cacheBytes(context) + 2 * qDim * 4 }));
      }
    }
    if (some((k) => k.fuseAttention)) {
      const fused = await attentionOp(gpu, { ...attentionArgs, fusedDecode: { qkv: x, rope } });
      for (const context of contexts) {
        const bytes = cacheBytes(context) + (2 * qDim + 2 * kvDim) * 4;
        rows.push(await time('attention decode + RoPE + KV store (fused)', `context ${context}`, fused, 1, { nTokens: 1, pos0: context - 1 }, { bytes }));
      }
    }
    // Prefill attention over a whole chunk from an empty cache: both kernels, side by side.
    for (const [prefill, name] of [['tiled', 'attention prefill (queries share keys)'], ['row', 'attention prefill (a query a workgroup)']] as const) {
      const op = await attentionOp(gpu, { ...attentionArgs, prefill });
      const flops = 4 * config.numHeads * config.headDim * ((t * (t + 1)) / 2);
      rows.push(await time(name, `${t} tokens`, op, t, { nTokens: t, pos0: 0 }, { flops }));
    }
    const ropeKv = await ropeKvOp(gpu, { label: 'rope', ...heads, step, qkv: x, rope, q, kCache, vCache, kvFormat });
    for (const n of some((k) => !k.fuseAttention) ? [1, t] : [t]) {
      rows.push(await time('RoPE + KV store', `${n} token(s)`, ropeKv, n, { nTokens: n, pos0: 0 }, { bytes: n * (qDim * 8 + 2 * kvDim * (4 + kvElement)) }));
    }
    const norm = await rmsnormOp(gpu, { label: 'rmsnorm', step, x, gain: weights.vectors.get('gain')!, y, dim: d, eps: config.rmsNormEps });
    for (const n of some((k) => !k.fuseNorms) ? [1, t] : [t]) rows.push(await time('RMSNorm', `${n} x ${d}`, norm, n, { nTokens: n, pos0: 0 }, { bytes: 2 * n * d * 4 }));
    if (some((k) => !k.fuseSwiglu)) {
      const swiglu = await swigluOp(gpu, { label: 'swiglu', step, gateUp: x, h: y, inter });
      rows.push(await time('SwiGLU', `1 x ${inter}`, swiglu, 1, { nTokens: 1, pos0: 0 }, { bytes: 3 * inter * 4 }));
    }
    const ids = buffer('bench ids', 16);
    const greedy = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1 };
    const topKP = { temperature: 0.7, topK: 40, topP: 0.9, repetitionPenalty: 1.1 };
    // Each row records the passes its settings need, as LlamaModel does (SampleDispatch.plan).
    const sampleRows = async (vocab: number, logits: GPUBuffer) => {
      const sample = await sampleOp(gpu, { label: `sample ${vocab}`, step, logits, seen: buffer(`bench seen ${vocab}`, vocab / 8 + 4), work: buffer(`bench work ${vocab}`, vocab * 4), ids, vocab });
      for (const [name, settings] of [['sample greedy', greedy], ['sample top-k 40, top-p 0.9', topKP]] as const) {
        sample.plan(settings);
        rows.push(await time(name, `vocab ${vocab}`, sample, 1, { nTokens: 1, pos0: 0, ...settings }, { bytes: vocab * 4 }));
      }
    };
    await sampleRows(config.vocabSize, y);
    // Qwen's vocabulary (152,064 rows at 7B, 4.75x LLaMA's): every logit is read, a top-k/top-p
    // draw about 17 times.
    const large = 152064;
    const largeLogits = createBufferWith(device, 'bench logits 152k', random(large).map((v, i) => v * 8 + Math.cos(i * 0.37)));
    owned.push(largeLogits);
    await sampleRows(large, largeLogits);
    return { rows, ratios };
  } finally {
    weights.destroy();
    owned.forEach((b) => b.destroy());
  }
}
