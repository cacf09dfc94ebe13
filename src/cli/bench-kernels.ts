/**
 * Kernel benchmarks at a model's real shapes: the device's measured ceilings (copy and
 * streaming-read bandwidth, f32 FMA rate), then each kernel's time with its GB/s or GFLOP/s as a
 * share of the ceiling that bounds it. Run through the same ops the forward pass uses.
 */
import { STEP_BYTES, STORAGE, UNIFORM, createBuffer, createBufferWith, encodeStep, grid, type StepParams } from '../gpu/buffers';
import { attentionOp, attentionPartialsBytes, ropeKvOp } from '../gpu/attention-op';
import { linearOp } from '../gpu/linear-op';
import { rmsnormOp, sampleOp, type Dispatch } from '../gpu/ops';
import type { Gpu } from '../gpu/runtime';
import { KV_BYTES_PER_ELEMENT, type WeightFormat } from '../gpu/shaders';
import type { PassTimer } from '../gpu/timing';
import type { LlamaConfig } from '../model/config';
import { loadWeights } from '../model/load-weights';
import { randomWeights } from '../model/random-weights';
import { ropeTable } from '../model/rope';
import { matrixBytes } from '../model/upload';
import { kvFormatFor, type WeightLayout } from '../model/weights';

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

/** Times the decode GEMV of each shape over workgroup sizes and rows per workgroup. */
export async function sweepGemv(gpu: Gpu, timer: PassTimer, config: LlamaConfig, format: WeightFormat, ceilings: Ceilings): Promise<KernelRow[]> {
  const d = config.hiddenSize;
  const shapes: [string, number, number][] = [
    ['o_proj', d, config.numHeads * config.headDim],
    ['gate,up fused', 2 * config.intermediateSize, d],
    ['down_proj', d, config.intermediateSize],
  ];
  const layout: WeightLayout = { matrices: shapes.map(([key, rows, cols]) => ({ key, rows, cols, format })), vectors: [], placements: new Map() };
  const weights = await loadWeights(gpu, randomWeights(5), layout);
  const step = createBufferWith(gpu.device, 'sweep step', new Uint8Array(encodeStep({ nTokens: 1, pos0: 0 })), UNIFORM);
  const x = createBufferWith(gpu.device, 'sweep x', new Float32Array(config.intermediateSize).fill(0.01));
  const y = createBuffer(gpu.device, 'sweep y', 2 * config.intermediateSize * 4);
  const rows: KernelRow[] = [];
  try {
    for (const [key, rowsOut, cols] of shapes) {
      for (const wg of [32, 64, 128]) {
        for (const perGroup of format === 'q4' ? [2, 4, 8, 16] : [1, 2, 4, 8]) {
          const op = await linearOp(gpu, { label: key, step, x, weight: weights.matrices.get(key)!, y, tuning: { wg, rows: perGroup } });
          const ms = await timer.median((pass) => op.encode(pass, 1), { samples: 5, inner: 10 });
          const gbPerSecond = (matrixBytes(format, rowsOut, cols) + 4 * (rowsOut + cols)) / ms / 1e6;
          rows.push({ kernel: `GEMV ${format} (${key}) WG ${wg} ROWS ${perGroup}`, shape: `${rowsOut}x${cols}`, ms, gbPerSecond, percentOfLimit: (100 * gbPerSecond) / ceilings.readGBs });
        }
      }
    }
    return rows;
  } finally {
    weights.destroy();
    [step, x, y].forEach((b) => b.destroy());
  }
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

/** Times each kernel of the forward pass at `config`'s shapes. */
export async function benchKernels(gpu: Gpu, timer: PassTimer, config: LlamaConfig, format: WeightFormat, ceilings: Ceilings, plan: BenchPlan): Promise<KernelRow[]> {
  const { device } = gpu;
  const d = config.hiddenSize;
  const inter = config.intermediateSize;
  const qDim = config.numHeads * config.headDim;
  const kvDim = config.numKvHeads * config.headDim;
  const headFormat: WeightFormat = format === 'q4' ? 'f16' : format;
  const shapes: [string, number, number, WeightFormat][] = [
    ['o_proj', d, qDim, format],
    ['q,k,v fused', qDim + 2 * kvDim, d, format],
    ['gate_proj', inter, d, format],
    ['gate,up fused', 2 * inter, d, format],
    ['down_proj', d, inter, format],
    ['lm_head', config.vocabSize, d, headFormat],
  ];
  const layout: WeightLayout = { matrices: shapes.map(([key, rows, cols, f]) => ({ key, rows, cols, format: f })), vectors: [{ key: 'gain', length: d }], placements: new Map() };
  const weights = await loadWeights(gpu, randomWeights(3), layout);
  const t = plan.prefillTokens;
  const maxContext = plan.quick ? 128 : 2048;
  const owned: GPUBuffer[] = [];
  const buffer = (label: string, bytes: number, usage = STORAGE) => {
    const made = createBuffer(device, label, bytes, usage);
    owned.push(made);
    return made;
  };
  const random = (count: number) => Float32Array.from({ length: count }, (_, i) => Math.sin(i * 12.9898) * 0.5);
  const step = buffer('bench step', STEP_BYTES, UNIFORM);
  const setStep = (params: StepParams) => device.queue.writeBuffer(step, 0, encodeStep(params));
  const x = createBufferWith(device, 'bench x', random(t * Math.max(d, inter)));
  owned.push(x);
  const y = buffer('bench y', t * Math.max(config.vocabSize, 2 * inter) * 4);
  const rows: KernelRow[] = [];
  const time = async (kernel: string, shape: string, op: Dispatch, n: number, params: StepParams, cost: { bytes?: number; flops?: number }) => {
    setStep(params);
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
    rows.push(row);
  };
  try {
    const linears = await Promise.all(shapes.map(([key]) => linearOp(gpu, { label: key, step, x, weight: weights.matrices.get(key)!, y })));
    for (const [i, [key, rowsOut, cols, f]] of shapes.entries()) {
      const weightBytes = matrixBytes(f, rowsOut, cols);
      await time(`GEMV ${f} (${key})`, `${rowsOut}x${cols}`, linears[i], 1, { nTokens: 1, pos0: 0 }, { bytes: weightBytes + 4 * (rowsOut + cols), flops: 2 * rowsOut * cols });
    }
    for (const [i, [key, rowsOut, cols, f]] of shapes.entries()) {
      const op = linears[i];
      await time(`matmul ${f} (${key}), ${t} tokens`, `${rowsOut}x${cols}`, op, t, { nTokens: t, pos0: 0 }, { flops: 2 * t * rowsOut * cols });
    }

    const heads = { nHeads: config.numHeads, nKvHeads: config.numKvHeads, headDim: config.headDim };
    const kvFormat = kvFormatFor(format);
    const kvElement = KV_BYTES_PER_ELEMENT[kvFormat];
    const kCache = buffer('bench k cache', maxContext * kvDim * kvElement);
    const vCache = buffer('bench v cache', maxContext * kvDim * kvElement);
    const q = buffer('bench q', t * qDim * 4);
    const out = buffer('bench attention out', t * qDim * 4);
    const partials = buffer('bench attention partials', attentionPartialsBytes(heads, maxContext));
    const attention = await attentionOp(gpu, { label: 'attention', ...heads, step, q, kCache, vCache, kvFormat, out, partials, maxSeq: maxContext });
    for (const context of plan.quick ? [128] : [128, 1024, 2048]) {
      await time('attention decode', `context ${context}`, attention, 1, { nTokens: 1, pos0: context - 1 }, { bytes: 2 * context * kvDim * kvElement + 2 * qDim * 4 });
    }
    const rope = createBufferWith(device, 'bench rope', ropeTable(config.headDim, maxContext, config.ropeTheta));
    owned.push(rope);
    const ropeKv = await ropeKvOp(gpu, { label: 'rope', ...heads, step, qkv: x, rope, q, kCache, vCache, kvFormat });
    for (const n of [1, t]) await time('RoPE + KV store', `${n} token(s)`, ropeKv, n, { nTokens: n, pos0: 0 }, { bytes: n * (qDim * 8 + 2 * kvDim * (4 + kvElement)) });
    const norm = await rmsnormOp(gpu, { label: 'rmsnorm', step, x, gain: weights.vectors.get('gain')!, y, dim: d, eps: config.rmsNormEps });
    for (const n of [1, t]) await time('RMSNorm', `${n} x ${d}`, norm, n, { nTokens: n, pos0: 0 }, { bytes: 2 * n * d * 4 });
    const ids = buffer('bench ids', 16);
    const sample = await sampleOp(gpu, { label: 'sample', step, logits: y, seen: buffer('bench seen', config.vocabSize / 8 + 4), work: buffer('bench work', config.vocabSize * 4), ids, vocab: config.vocabSize });
    const vocabBytes = { bytes: config.vocabSize * 4 };
    await time('sample greedy', `vocab ${config.vocabSize}`, sample, 1, { nTokens: 1, pos0: 0, temperature: 0 }, vocabBytes);
    await time('sample top-k 40, top-p 0.9', `vocab ${config.vocabSize}`, sample, 1, { nTokens: 1, pos0: 0, temperature: 0.7, topK: 40, topP: 0.9, repetitionPenalty: 1.1 }, vocabBytes);
    return rows;
  } finally {
    weights.destroy();
    owned.forEach((b) => b.destroy());
  }
}
