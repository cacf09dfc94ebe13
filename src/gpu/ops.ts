/**
 * One factory per kernel: each builds, at load, the pipeline and bind groups for one use of the
 * kernel and returns a Dispatch that only records commands. The forward pass (model/llama.ts)
 * and the kernel tests both go through these, so the tests exercise exactly what runs.
 *
 * Dimension legend: T = tokens in the chunk (Step.n_tokens), D = hidden size, V = vocab.
 */
import { grid } from './buffers';
import type { PipelineCache } from './pipelines';
import { KV_ACCESSOR, type KvFormat, type WeightFormat } from './shaders';

export interface OpContext {
  device: GPUDevice;
  pipelines: PipelineCache;
  maxWorkgroups: number;
  /** Reduce with subgroup operations (the device has the `subgroups` feature). */
  subgroups: boolean;
}

/**
 * Records one kernel's work for a chunk of `nTokens` rows starting at position `pos0` (the same
 * values the Step uniform holds for this submit). Creates no GPU object.
 */
export interface Dispatch {
  label: string;
  encode(pass: GPUComputePassEncoder, nTokens: number, pos0?: number): void;
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

function bindGroup(ctx: OpContext, layout: GPUBindGroupLayout, label: string, buffers: (GPUBuffer | null)[]): GPUBindGroup {
  return ctx.device.createBindGroup({
    label,
    layout,
    entries: buffers.flatMap((buffer, binding) => (buffer ? [{ binding, resource: { buffer } }] : [])),
  });
}

function record(
  pass: GPUComputePassEncoder,
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

const WG = 256;

export async function embeddingOp(
  ctx: OpContext,
  a: { label: string; step: GPUBuffer; ids: GPUBuffer; table: WeightMatrix; x: GPUBuffer },
): Promise<Dispatch> {
  const kernel = await ctx.pipelines.get({
    kernel: 'embedding.wgsl',
    weights: a.table.format,
    bindings: ['uniform', 'read', 'storage'],
    constants: { IN_DIM: a.table.cols, WG },
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

/** Rows of X up to which the batched GEMV beats the tiled matmul (weights are read once). */
export const GEMV_MAX_TOKENS = 4;

/**
 * y = x W^T (+ y when accumulate): the GEMV kernel for decode (one row) and short chunks (up to
 * GEMV_MAX_TOKENS rows, each weight read once for all of them), the tiled matmul beyond.
 * x: (T, cols) f32, y: (T, rows) f32.
 */
export async function linearOp(
  ctx: OpContext,
  a: {
    label: string;
    step: GPUBuffer;
    x: GPUBuffer;
    weight: WeightMatrix;
    y: GPUBuffer;
    accumulate?: boolean;
    /** Decode GEMV workgroup size and rows per workgroup (the benchmark's sweep sets these). */
    tuning?: { wg: number; rows: number };
    /**
     * The RMSNorm that produces `x`, fused into the one-token GEMV (gemv_input.wgsl): a decode
     * step then reads the residual stream `norm.x` and skips the norm dispatch.
     */
    norm?: { x: GPUBuffer; gain: GPUBuffer; eps: number };
  },
): Promise<Dispatch> {
  const { rows, cols, format } = a.weight;
  const accumulate = a.accumulate ?? false;
  // A row of cols / 8 chunks keeps at most that many threads busy: short rows get a smaller
  // workgroup holding more rows (tiny test models), long rows 64 threads.
  const wg = a.tuning?.wg ?? Math.min(64, Math.max(16, 2 ** Math.floor(Math.log2(cols / 8))));
  const reducer = ctx.subgroups ? 'reduce_subgroup.wgsl' : 'reduce_workgroup.wgsl';
  const gemv = (kernel: 'gemv.wgsl' | 'gemv_q4.wgsl' | 'gemv_batched.wgsl', constants: Record<string, number | boolean>) =>
    ctx.pipelines.get({
      kernel,
      accessors: kernel === 'gemv_batched.wgsl' ? [reducer] : ['gemv_input.wgsl', reducer],
      // gemv_q4.wgsl declares the q4 bindings itself (16-byte loads); the layout is the same.
      weights: kernel === 'gemv_q4.wgsl' ? undefined : format,
      weightLayout: kernel === 'gemv_q4.wgsl' ? format : undefined,
      bindings: kernel === 'gemv_batched.wgsl' ? ['uniform', 'read', 'storage'] : ['uniform', 'read', 'storage', 'read'],
      constants: { IN_DIM: cols, OUT_DIM: rows, ACCUMULATE: accumulate, ...constants },
    });
  // q4 rows hold cols / 32 groups, one per thread step; about two steps per thread measured best
  // on an H100 (bench --sweep: 64 threads for 4096-wide rows, 128 for 11008).
  const q4Wg = a.tuning?.wg ?? Math.min(128, Math.max(16, 2 ** Math.floor(Math.log2(cols / 64))));
  const singleRows = a.tuning?.rows ?? (format === 'q4' || wg >= 64 ? 4 : 8);
  const batchedRows = 4;
  const fused: Record<string, number | boolean> = a.norm ? { FUSED_NORM: true, EPS: a.norm.eps } : {};
  const [single, batched, matmul] = await Promise.all([
    format === 'q4' ? gemv('gemv_q4.wgsl', { WG: q4Wg, ROWS: singleRows, ...fused }) : gemv('gemv.wgsl', { WG: wg, ROWS: singleRows, ...fused }),
    gemv('gemv_batched.wgsl', { WG: Math.max(32, wg), ROWS: batchedRows, TOKENS: GEMV_MAX_TOKENS }),
    ctx.pipelines.get({
      kernel: 'matmul.wgsl',
      weights: format,
      bindings: ['uniform', 'read', 'storage'],
      constants: { IN_DIM: cols, OUT_DIM: rows, ACCUMULATE: accumulate },
    }),
  ]);
  const groups = [
    // Unfused, gemv_input.wgsl's gain binding is unused: x stands in for it.
    bindGroup(ctx, single.layout, `${a.label} ${single.label}`, a.norm ? [a.step, a.norm.x, a.y, a.norm.gain] : [a.step, a.x, a.y, a.x]),
    ...[batched, matmul].map((kernel) => bindGroup(ctx, kernel.layout, `${a.label} ${kernel.label}`, [a.step, a.x, a.y])),
  ];
  const singleGrid = grid(Math.ceil(rows / singleRows), ctx.maxWorkgroups);
  const batchedGrid = grid(Math.ceil(rows / batchedRows), ctx.maxWorkgroups);
  return {
    label: a.label,
    encode(pass, nTokens) {
      if (nTokens === 1) {
        record(pass, single.pipeline, [groups[0], a.weight.bindGroup], ...singleGrid);
      } else if (nTokens <= GEMV_MAX_TOKENS) {
        record(pass, batched.pipeline, [groups[1], a.weight.bindGroup], ...batchedGrid);
      } else {
        record(pass, matmul.pipeline, [groups[2], a.weight.bindGroup], Math.ceil(rows / 64), Math.ceil(nTokens / 64));
      }
    },
  };
}

export interface AttentionShape {
  nHeads: number;
  nKvHeads: number;
  headDim: number;
}

/** RoPE on q and k, k and v appended to the cache at rows pos0 .. pos0 + T. */
export async function ropeKvOp(
  ctx: OpContext,
  a: AttentionShape & { label: string; step: GPUBuffer; qkv: GPUBuffer; rope: GPUBuffer; q: GPUBuffer; kCache: GPUBuffer; vCache: GPUBuffer; kvFormat: KvFormat },
): Promise<Dispatch> {
  const kernel = await ctx.pipelines.get({
    kernel: 'rope_kv.wgsl',
    accessors: [KV_ACCESSOR[a.kvFormat]],
    bindings: ['uniform', 'read', 'read', 'storage', 'storage', 'storage'],
    constants: { N_HEADS: a.nHeads, N_KV_HEADS: a.nKvHeads, HEAD_DIM: a.headDim, WG },
  });
  const group = bindGroup(ctx, kernel.layout, a.label, [a.step, a.qkv, a.rope, a.q, a.kCache, a.vCache]);
  const slotsPerToken = ((a.nHeads + 2 * a.nKvHeads) * a.headDim) / 4;
  return {
    label: a.label,
    encode(pass, nTokens) {
      const [gx, gy] = grid(Math.ceil((nTokens * slotsPerToken) / WG), ctx.maxWorkgroups);
      record(pass, kernel.pipeline, [group], gx, gy);
    },
  };
}

/** Keys per workgroup of split-K decode attention. */
export const ATTENTION_CHUNK = 64;

/** Bytes of the split-K softmax partials: (nHeads, ceil(maxSeq / chunk), headDim + 2) f32. */
export function attentionPartialsBytes(shape: AttentionShape, maxSeq: number): number {
  return shape.nHeads * Math.ceil(maxSeq / ATTENTION_CHUNK) * (shape.headDim + 2) * 4;
}

/**
 * Causal attention over the KV cache. Prefill chunks run attention.wgsl (a workgroup per head
 * and query); a decode step runs split-K attention (attention_decode.wgsl over chunks of keys,
 * then attention_merge.wgsl) so a long context spreads over many workgroups.
 */
export async function attentionOp(
  ctx: OpContext,
  a: AttentionShape & {
    label: string;
    step: GPUBuffer;
    q: GPUBuffer;
    kCache: GPUBuffer;
    vCache: GPUBuffer;
    kvFormat: KvFormat;
    out: GPUBuffer;
    /** Scratch of attentionPartialsBytes(shape, maxSeq) bytes, shareable by every layer. */
    partials: GPUBuffer;
    maxSeq: number;
  },
): Promise<Dispatch> {
  const heads = { N_HEADS: a.nHeads, N_KV_HEADS: a.nKvHeads, HEAD_DIM: a.headDim };
  const maxChunks = Math.ceil(a.maxSeq / ATTENTION_CHUNK);
  const partials = a.partials;
  const accessors = [KV_ACCESSOR[a.kvFormat]];
  const [prefill, decode, merge] = await Promise.all([
    ctx.pipelines.get({ kernel: 'attention.wgsl', accessors, bindings: ['uniform', 'read', 'read', 'read', 'storage'], constants: { ...heads, WG: 64 } }),
    ctx.pipelines.get({ kernel: 'attention_decode.wgsl', accessors, bindings: ['uniform', 'read', 'read', 'read', 'storage'], constants: { ...heads, MAX_CHUNKS: maxChunks, WG: ATTENTION_CHUNK } }),
    ctx.pipelines.get({ kernel: 'attention_merge.wgsl', bindings: ['uniform', 'read', 'storage'], constants: { N_HEADS: a.nHeads, HEAD_DIM: a.headDim, MAX_CHUNKS: maxChunks, CHUNK: ATTENTION_CHUNK, WG: 64 } }),
  ]);
  const prefillGroup = bindGroup(ctx, prefill.layout, a.label, [a.step, a.q, a.kCache, a.vCache, a.out]);
  const decodeGroup = bindGroup(ctx, decode.layout, `${a.label} decode`, [a.step, a.q, a.kCache, a.vCache, partials]);
  const mergeGroup = bindGroup(ctx, merge.layout, `${a.label} merge`, [a.step, partials, a.out]);
  return {
    label: a.label,
    encode(pass, nTokens, pos0 = 0) {
      if (nTokens === 1) {
        record(pass, decode.pipeline, [decodeGroup], a.nHeads, Math.ceil((pos0 + 1) / ATTENTION_CHUNK));
        record(pass, merge.pipeline, [mergeGroup], a.nHeads);
      } else {
        record(pass, prefill.pipeline, [prefillGroup], a.nHeads, nTokens);
      }
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
