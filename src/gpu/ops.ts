/**
 * One factory per kernel: each builds, at load, the pipeline and bind groups for one use of the
 * kernel and returns a Dispatch that only records commands. The forward pass (model/llama.ts)
 * and the kernel tests both go through these, so the tests exercise exactly what runs. The
 * matrix products are in linear-op.ts, attention and RoPE in attention-op.ts.
 *
 * Dimension legend: T = tokens in the chunk (Step.n_tokens), D = hidden size, V = vocab.
 */
import type { SubgroupMatrix } from './device';
import { grid } from './buffers';
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

/** Picks the next token from logits row 0 into ids[0]; see sample.wgsl. */
export async function sampleOp(
  ctx: OpContext,
  a: { label: string; step: GPUBuffer; logits: GPUBuffer; seen: GPUBuffer; work: GPUBuffer; ids: GPUBuffer; vocab: number },
): Promise<Dispatch> {
  const kernel = await ctx.pipelines.get({
    kernel: 'sample.wgsl',
    bindings: ['uniform', 'read', 'storage', 'storage', 'storage'],
    constants: { VOCAB: a.vocab, WG },
  });
  const group = bindGroup(ctx, kernel.layout, a.label, [a.step, a.logits, a.seen, a.work, a.ids]);
  return {
    label: a.label,
    encode(pass) {
      record(pass, kernel.pipeline, [group], 1);
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
