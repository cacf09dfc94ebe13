/**
 * Kernel benchmarks at a model's real shapes: the device's measured ceilings (copy and
 * streaming-read bandwidth, f32 FMA rate), then each kernel's time with its GB/s or GFLOP/s as a
 * share of the ceiling that bounds it. Run through the same ops the forward pass uses.
 */
import { attentionOp, attentionPartialsBytes, ropeKvOp } from '../gpu/attention-op';
import { STEP_BYTES, STORAGE, UNIFORM, createBuffer, createBufferWith, encodeStep, grid, type StepParams } from '../gpu/buffers';
import { linearOp } from '../gpu/linear-op';
import { rmsnormOp, sampleOp, swigluOp, type Dispatch } from '../gpu/ops';
import type { Gpu } from '../gpu/runtime';
import { KV_BYTES_PER_ELEMENT, type WeightFormat } from '../gpu/shaders';
import type { PassTimer } from '../gpu/timing';
import type { LlamaConfig } from '../model/config';
import type { DecodeKernels } from '../model/llama';
import { loadWeights } from '../model/load-weights';
import { randomWeights } from '../model/random-weights';
import { ropeTable } from '../model/rope';
import { kvFormatFor } from '../model/weights';
import { benchGemvs, benchLayout, headFormatOf, layerShapes, type GemvRatio } from './bench-gemv';

export interface Ceilings {
  copyGBs: number;
  readGBs: number;
  fp32Gflops: number;
}

export interface KernelRow {
  kernel: string;
  shape: string;
  ms: number;
  gbPerSecond?: number;
  gflops?: number;
  /** Share of the bounding ceiling: read bandwidth for memory-bound kernels, f32 rate for matmuls. */
  percentOfLimit?: number;
}

export interface BenchPlan {
  quick: boolean;
  samples: number;
  prefillTokens: number;
}

/** Times one kernel's dispatch and makes its table row; `step` is the uniform it writes first. */
export type RowTimer = ((kernel: string, shape: string, op: Dispatch, n: number, params: StepParams, cost: { bytes?: number; flops?: number }) => Promise<KernelRow>) & { step: GPUBuffer };

export function rowTimer(gpu: Gpu, timer: PassTimer, ceilings: Ceilings, plan: BenchPlan): RowTimer {
  const step = createBuffer(gpu.device, 'bench step', STEP_BYTES, UNIFORM);
  const time = async (kernel: string, shape: string, op: Dispatch, n: number, params: StepParams, cost: { bytes?: number; flops?: number }) => {
    gpu.device.queue.writeBuffer(step, 0, encodeStep(params));
    const ms = await timer.median((pass) => op.encode(pass, n, params.pos0), { samples: plan.samples, inner: plan.quick ? 1 : 10 });
    const row: KernelRow = { kernel, shape, ms };
    if (cost.bytes) {
      row.gbPerSecond = cost.bytes / ms / 1e6;
      row.percentOfLimit = (100 * row.gbPerSecond) / ceilings.readGBs;
    }
    if (cost.flops) {
      row.gflops = cost.flops / ms / 1e6;
      if (!cost.bytes) row.percentOfLimit = (100 * row.gflops) / ceilings.fp32Gflops;
    }
    return row;
  };
  return Object.assign(time, { step });
}

export async function measureCeilings(gpu: Gpu, timer: PassTimer, plan: BenchPlan): Promise<Ceilings> {
  const { device } = gpu;
  const bytes = Math.min(plan.quick ? 64 << 20 : 1 << 30, gpu.context.limits.maxStorageBufferBindingSize, gpu.context.limits.maxBufferSize) & ~0xffff;
  const source = createBuffer(device, 'bench copy source', bytes);
  const target = createBuffer(device, 'bench copy target', bytes);
  try {
    const copyMs = await medianCopy(device, source, target, bytes, plan.samples);
    const perThread = 16;
    const groups = bytes / 16 / 256 / perThread;
    const readKernel = await gpu.pipelines.get({ kernel: 'bandwidth.wgsl', bindings: ['read', 'storage'], constants: { WG: 256, PER_THREAD: perThread } });
    const readGroup = device.createBindGroup({ layout: readKernel.layout, entries: [source, target].map((buffer, binding) => ({ binding, resource: { buffer } })) });
    const [gx, gy] = grid(groups, gpu.maxWorkgroups);
    if (gx * gy !== groups) throw new Error(`bandwidth grid ${gx}x${gy} does not tile ${groups}`);
    const readMs = await timer.median((pass) => dispatch(pass, readKernel.pipeline, readGroup, gx, gy), { samples: plan.samples });

    const iterations = plan.quick ? 64 : 4096;
    const flopsGroups = plan.quick ? 64 : 4096;
    const flopsKernel = await gpu.pipelines.get({ kernel: 'peak_flops.wgsl', bindings: ['storage'], constants: { WG: 256, ITERATIONS: iterations } });
    const flopsGroup = device.createBindGroup({ layout: flopsKernel.layout, entries: [{ binding: 0, resource: { buffer: target } }] });
    const flopsMs = await timer.median((pass) => dispatch(pass, flopsKernel.pipeline, flopsGroup, flopsGroups, 1), { samples: plan.samples });
    const flops = flopsGroups * 256 * iterations * 32 * 2;
    // A copy reads and writes every byte.
    return { copyGBs: (2 * bytes) / copyMs / 1e6, readGBs: bytes / readMs / 1e6, fp32Gflops: flops / flopsMs / 1e6 };
  } finally {
    source.destroy();
    target.destroy();
  }
}

function dispatch(pass: GPUComputePassEncoder, pipeline: GPUComputePipeline, group: GPUBindGroup, x: number, y: number): void {
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, group);
  pass.dispatchWorkgroups(x, y);
}

async function medianCopy(device: GPUDevice, source: GPUBuffer, target: GPUBuffer, bytes: number, samples: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i <= samples; i++) {
    const encoder = device.createCommandEncoder({ label: 'bench copy' });
    encoder.copyBufferToBuffer(source, 0, target, 0, bytes);
    const start = performance.now();
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
    if (i > 0) times.push(performance.now() - start); // the first is a warm-up
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** Times each kernel of the forward pass at `config`'s shapes, old and new where both run. */
export async function benchKernels(gpu: Gpu, time: RowTimer, config: LlamaConfig, format: WeightFormat, plan: BenchPlan, variants: DecodeKernels[]): Promise<{ rows: KernelRow[]; ratios: GemvRatio[] }> {
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
    for (const [name, key, rowsOut, cols, f] of shapes) {
      const op = await linearOp(gpu, { label: name, step, x, weight: weights.matrices.get(key)!, y });
      rows.push(await time(`matmul ${f} (${name}), ${t} tokens`, `${rowsOut}x${cols}`, op, t, { nTokens: t, pos0: 0 }, { flops: 2 * t * rowsOut * cols }));
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
    const some = (pick: (k: DecodeKernels) => boolean) => variants.some(pick);
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
    const sample = await sampleOp(gpu, { label: 'sample', step, logits: y, seen: buffer('bench seen', config.vocabSize / 8 + 4), work: buffer('bench work', config.vocabSize * 4), ids, vocab: config.vocabSize });
    const vocabBytes = { bytes: config.vocabSize * 4 };
    rows.push(await time('sample greedy', `vocab ${config.vocabSize}`, sample, 1, { nTokens: 1, pos0: 0, temperature: 0 }, vocabBytes));
    rows.push(await time('sample top-k 40, top-p 0.9', `vocab ${config.vocabSize}`, sample, 1, { nTokens: 1, pos0: 0, temperature: 0.7, topK: 40, topP: 0.9, repetitionPenalty: 1.1 }, vocabBytes));
    return { rows, ratios };
  } finally {
    weights.destroy();
    owned.forEach((b) => b.destroy());
  }
}
