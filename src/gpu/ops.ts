/**
 * One factory per kernel: each builds, at load, the pipeline and bind groups for one use of the
 * kernel and returns a Dispatch that only records commands. The forward pass (model/llama.ts)
 * and the kernel tests both go through these, so the tests exercise exactly what runs. The
 * matrix products are in linear-op.ts, attention and RoPE in attention-op.ts.
 *
 * Dimension legend: T = tokens in the chunk (Step.n_tokens), D = hidden size, V = vocab.
 */
import type { SubgroupMatrix } from './device';
import { createBuffer, grid } from './buffers';
import type { PipelineCache } from './pipelines';
import type { WeightFormat } from './shaders';

export interface OpContext {
  device: GPUDevice;
  pipelines: PipelineCache;
  maxWorkgroups: number;
  /** Bytes of workgroup memory a kernel may declare (the device's limit). */
  maxWorkgroupStorage: number;
  /** Reduce with subgroup operations (the device has the `subgroups` feature). */
  subgroups: boolean;
  /** WGSL's packed_4x8_integer_dot_product (dot4I8Packed) compiles on this device. */
  packedDot: boolean;
  /** A software adapter (SwiftShader): kernels with a per-device shape take the CPU's. */
  software: boolean;
  /** The matrix units through subgroup matrices, when the device has them (device.ts). */
  subgroupMatrix?: SubgroupMatrix;
}

/** The calls a Dispatch makes on a compute pass, so a counting stand-in can take its place. */
export interface PassRecorder {
  setPipeline(pipeline: GPUComputePipeline): void;
  setBindGroup(index: number, group: GPUBindGroup): void;
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
}

/** Forwards to a compute pass and counts the dispatches: what a step really encoded. */
export class CountingPass implements PassRecorder {
  dispatches = 0;

  constructor(private readonly pass: PassRecorder) {}

  setPipeline(pipeline: GPUComputePipeline): void {
    this.pass.setPipeline(pipeline);
  }

  setBindGroup(index: number, group: GPUBindGroup): void {
    this.pass.setBindGroup(index, group);
  }

  dispatchWorkgroups(x: number, y = 1, z = 1): void {
    this.dispatches++;
    this.pass.dispatchWorkgroups(x, y, z);
  }
}

/**
 * Records one kernel's work for a chunk of `nTokens` rows starting at position `pos0` (the same
 * values the Step uniform holds for this submit). Creates no GPU object.
 */
export interface Dispatch {
  label: string;
  encode(pass: PassRecorder, nTokens: number, pos0?: number): void;
}

/** A weight matrix on the GPU: (rows, cols) in `format`, with its group-1 bind group. */
export interface WeightMatrix {
  format: WeightFormat;
  rows: number;
  cols: number;
  /** [weight] for f32/f16; [codes, scales] for q4. */
  buffers: GPUBuffer[];
  bindGroup: GPUBindGroup;
}

export function weightBindGroup(ctx: OpContext, format: WeightFormat, buffers: GPUBuffer[], label: string): GPUBindGroup {
  return ctx.device.createBindGroup({
    label,
    layout: ctx.pipelines.weightLayouts[format],
    entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
}

export function bindGroup(ctx: OpContext, layout: GPUBindGroupLayout, label: string, buffers: (GPUBuffer | null)[]): GPUBindGroup {
  return ctx.device.createBindGroup({
    label,
    layout,
    entries: buffers.flatMap((buffer, binding) => (buffer ? [{ binding, resource: { buffer } }] : [])),
  });
}

export function record(
  pass: PassRecorder,
  pipeline: GPUComputePipeline,
  groups: GPUBindGroup[],
  x: number,
  y = 1,
  z = 1,
): void {
  pass.setPipeline(pipeline);
  groups.forEach((group, index) => pass.setBindGroup(index, group));
  pass.dispatchWorkgroups(x, y, z);
}

export const WG = 256;

/**
 * x[t] = table row ids[t]. With `rowOffset`, `table` holds rows rowOffset .. rowOffset +
 * table.rows of a table split into row blocks, and only tokens in that range are written.
 */
export async function embeddingOp(
  ctx: OpContext,
  a: { label: string; step: GPUBuffer; ids: GPUBuffer; table: WeightMatrix; x: GPUBuffer; rowOffset?: number },
): Promise<Dispatch> {
  const block: Record<string, number> = a.rowOffset === undefined ? {} : { ROW_OFFSET: a.rowOffset, ROWS: a.table.rows };
  const kernel = await ctx.pipelines.get({
    kernel: 'embedding.wgsl',
    weights: a.table.format,
    bindings: ['uniform', 'read', 'storage'],
    constants: { IN_DIM: a.table.cols, WG, ...block },
  });
  const group = bindGroup(ctx, kernel.layout, a.label, [a.step, a.ids, a.x]);
  return {
    label: a.label,
    encode(pass, nTokens) {
      const [gx, gy] = grid(Math.ceil((nTokens * a.table.cols) / 8 / WG), ctx.maxWorkgroups);
      record(pass, kernel.pipeline, [group, a.table.bindGroup], gx, gy);
    },
  };
}

export async function rmsnormOp(
  ctx: OpContext,
  a: { label: string; step: GPUBuffer; x: GPUBuffer; gain: GPUBuffer; y: GPUBuffer; dim: number; eps: number; lastRowOnly?: boolean },
): Promise<Dispatch> {
  const kernel = await ctx.pipelines.get({
    kernel: 'rmsnorm.wgsl',
    accessors: ['reduce_workgroup.wgsl'],
    bindings: ['uniform', 'read', 'read', 'storage'],
    constants: { DIM: a.dim, EPS: a.eps, WG, LAST_ROW_ONLY: a.lastRowOnly ?? false },
  });
  const group = bindGroup(ctx, kernel.layout, a.label, [a.step, a.x, a.gain, a.y]);
  return {
    label: a.label,
    encode(pass, nTokens) {
      record(pass, kernel.pipeline, [group], a.lastRowOnly ? 1 : nTokens);
    },
  };
}

export async function swigluOp(
  ctx: OpContext,
  a: { label: string; step: GPUBuffer; gateUp: GPUBuffer; h: GPUBuffer; inter: number },
): Promise<Dispatch> {
  const kernel = await ctx.pipelines.get({
    kernel: 'swiglu.wgsl',
    bindings: ['uniform', 'read', 'storage'],
    constants: { INTER: a.inter, WG },
  });
  const group = bindGroup(ctx, kernel.layout, a.label, [a.step, a.gateUp, a.h]);
  return {
    label: a.label,
    encode(pass, nTokens) {
      const [gx, gy] = grid(Math.ceil((nTokens * a.inter) / WG), ctx.maxWorkgroups);
      record(pass, kernel.pipeline, [group], gx, gy);
    },
  };
}

/** Ids a sample_scan.wgsl workgroup covers. */
export const SAMPLE_SLICE = 2048;
/** Words of sample_state.wgsl's state. */
const SAMPLE_STATE_WORDS = 8;
/** Up to this vocabulary greedy runs in one workgroup, one dispatch (sample_pick.wgsl PHASE 2). */
const WHOLE_GREEDY_VOCAB = 65536;

/** Bytes of the sampler's scratch for `vocab`: its state, and (slices, 2 + 16) u32 partials. */
export function sampleScratchBytes(vocab: number): { state: number; partials: number } {
  return { state: SAMPLE_STATE_WORDS * 4, partials: Math.ceil(vocab / SAMPLE_SLICE) * 18 * 4 };
}

/** The settings that decide which passes a sampling step needs. */
export interface SampleSettings {
  temperature: number;
  topK: number;
  topP: number;
  vocabLimit?: number;
}

export interface SampleDispatch extends Dispatch {
  /**
   * From the next encode on, records only the passes `settings` need (greedy: one or two; top-k
   * and top-p: 36). Without a plan every pass is recorded, which is right for any settings (the
   * kernels skip what the Step's settings do not use), only slower.
   */
  plan(settings: SampleSettings | undefined): void;
}

/**
 * Picks the next token from logits row 0 into ids[0], in passes over the vocabulary spread on
 * the whole GPU (sample_scan.wgsl), one-workgroup steps between them (sample_pick.wgsl) and a
 * one-workgroup draw at the end (sample_draw.wgsl): a 152k vocabulary's top-k and top-p draw
 * reads the logits 17 times. `scratch` holds the
 * sampler's state and partials (sampleScratchBytes); made here when absent (kernel tests).
 */
export async function sampleOp(
  ctx: OpContext,
  a: { label: string; step: GPUBuffer; logits: GPUBuffer; seen: GPUBuffer; work: GPUBuffer; ids: GPUBuffer; vocab: number; scratch?: { state: GPUBuffer; partials: GPUBuffer } },
): Promise<SampleDispatch> {
  const sizes = sampleScratchBytes(a.vocab);
  const scratch = a.scratch ?? {
    state: createBuffer(ctx.device, `${a.label} state`, sizes.state), // (8) u32, sample_state.wgsl
    partials: createBuffer(ctx.device, `${a.label} partials`, sizes.partials), // (slices, 2 + 16) u32
  };
  const slices = Math.ceil(a.vocab / SAMPLE_SLICE);
  const scanKernel = (phase: number) =>
    ctx.pipelines.get({
      kernel: 'sample_scan.wgsl',
      accessors: ['sample_state.wgsl', 'reduce_workgroup.wgsl'],
      bindings: ['uniform', 'read', 'read', 'storage', 'read', 'storage'],
      constants: { VOCAB: a.vocab, SLICE: SAMPLE_SLICE, WG: 128, PHASE: phase },
    });
  const pickKernel = (kernel: 'sample_pick.wgsl' | 'sample_draw.wgsl', phase?: number) =>
    ctx.pipelines.get({
      kernel,
      accessors: ['sample_state.wgsl'],
      bindings: ['uniform', 'read', 'storage', 'read', 'storage', 'read', 'storage'],
      constants: { VOCAB: a.vocab, SLICE: SAMPLE_SLICE, WG, ...(phase === undefined ? {} : { PHASE: phase }) },
    });
  // picks: sample_pick.wgsl's phases 0 (largest logit), 1 (a radix round), 2 (greedy alone); then the draw.
  const [scans, picks] = await Promise.all([
    Promise.all([0, 1, 2].map((phase) => scanKernel(phase))),
    Promise.all([...[0, 1, 2].map((phase) => pickKernel('sample_pick.wgsl', phase)), pickKernel('sample_draw.wgsl')]),
  ]);
  const scanGroup = bindGroup(ctx, scans[0].layout, `${a.label} scan`, [a.step, a.logits, a.seen, a.work, scratch.state, scratch.partials]);
  const pickGroup = bindGroup(ctx, picks[0].layout, `${a.label} pick`, [a.step, a.logits, a.seen, a.work, scratch.state, scratch.partials, a.ids]);
  type Pass = 'scan' | 'pick';
  const step = (kind: Pass, phase: number) => (pass: PassRecorder) =>
    kind === 'scan' ? record(pass, scans[phase].pipeline, [scanGroup], slices) : record(pass, picks[phase].pipeline, [pickGroup], 1);
  const [greedyAlone, draw] = [step('pick', 2), step('pick', 3)];
  const rounds = (count: number) => Array.from({ length: count * 8 }, () => [step('scan', 1), step('pick', 1)]).flat();
  const everything = [step('scan', 0), step('pick', 0), ...rounds(2), step('scan', 2), draw];
  let planned = everything;
  return {
    label: a.label,
    plan(settings) {
      if (!settings) {
        planned = everything;
        return;
      }
      const n = Math.min(a.vocab, settings.vocabLimit ?? a.vocab);
      if (settings.temperature <= 0 || settings.topK === 1) {
        planned = a.vocab <= WHOLE_GREEDY_VOCAB ? [greedyAlone] : [step('scan', 0), step('pick', 0)];
        return;
      }
      const selects = (settings.topK > 0 && settings.topK < n ? 1 : 0) + (settings.topP < 1 ? 1 : 0);
      planned = [step('scan', 0), step('pick', 0), ...rounds(selects), step('scan', 2), draw];
    },
    encode(pass) {
      for (const record of planned) record(pass);
    },
  };
}

/** Alternatives token_logprobs.wgsl reports per row (the token view's "top 5 on hover"). */
export const TOP_LOGPROBS = 5;

/** u32 words per row of token_logprobs.wgsl's output: [logprob, TOP_K ids, TOP_K logprobs]. */
export const TOKEN_SCORE_WORDS = 1 + 2 * TOP_LOGPROBS;

/**
 * Per logits row: ln p(targets[t]) and the TOP_LOGPROBS best (id, logprob); see
 * token_logprobs.wgsl. logits: (T, vocab) f32, targets: (T) u32, out: (T, TOKEN_SCORE_WORDS) u32.
 */
export async function tokenLogprobsOp(
  ctx: OpContext,
  a: { label: string; logits: GPUBuffer; targets: GPUBuffer; out: GPUBuffer; vocab: number },
): Promise<Dispatch> {
  const kernel = await ctx.pipelines.get({
    kernel: 'token_logprobs.wgsl',
    accessors: ['reduce_workgroup.wgsl'],
    bindings: ['read', 'read', 'storage'],
    constants: { VOCAB: a.vocab, WG: 128, TOP_K: TOP_LOGPROBS },
  });
  const group = bindGroup(ctx, kernel.layout, a.label, [a.logits, a.targets, a.out]);
  return {
    label: a.label,
    encode(pass, nTokens) {
      record(pass, kernel.pipeline, [group], nTokens);
    },
  };
}
