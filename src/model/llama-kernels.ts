/**
 * What the forward pass (llama.ts) runs on, made once at load: the activation buffers, the KV
 * cache, and one Dispatch per kernel use (pipelines and bind groups built here, so a step only
 * records). The order of operations lives in llama.ts; this file only assembles them.
 *
 * Legend: T = tokens in a chunk (<= maxChunk), S = context length, D = hidden size,
 * I = intermediate size, V = vocab, qDim = heads * headDim, kvDim = kv heads * headDim.
 */
import { EngineError } from '../errors';
import { STEP_BYTES, UNIFORM, USAGE, createBuffer, createBufferWith } from '../gpu/buffers';
import { attentionOp, attentionPartialsBytes, ropeKvOp } from '../gpu/attention-op';
import { biasAddOp, headRmsnormOp } from '../gpu/family-ops';
import { blockedEmbeddingOp, blockedLinearOp } from '../gpu/blocked-ops';
import type { Matmul, Q4Gemv } from '../gpu/linear-op';
import { rmsnormOp, sampleOp, sampleScratchBytes, swigluOp, TOKEN_SCORE_WORDS, tokenLogprobsOp, type Dispatch, type SampleDispatch } from '../gpu/ops';
import type { Gpu } from '../gpu/runtime';
import type { LlamaConfig } from './config';
import type { GpuWeights } from './load-weights';
import type { MemoryPlan, RunShape } from './memory-plan';
import { ropeTable } from './rope';
import { layerKey, lmHeadKey, type WeightLayout } from './weights';

/** Decode steps that may be submitted before the first of them is read back. */
export const READBACK_SLOTS = 2;

/**
 * The kernels of a one-token (decode) step, each fusion on its own so a GPU run can tell which
 * pays (BENCHMARKS.md, `npm run bench -- --variants`): all three make 5 dispatches a layer (6 at
 * longer contexts) of 10. `q4Gemv` picks the q4 GEMV (see linear-op.ts).
 */
export interface KernelChoice {
  /** Each RMSNorm inside the GEMV after it (the final one inside lm_head). */
  fuseNorms: boolean;
  /** RoPE and the KV store inside split-K attention (attention_decode.wgsl FUSED). */
  fuseAttention: boolean;
  /** SwiGLU in the gate/up GEMV's epilogue. */
  fuseSwiglu: boolean;
  q4Gemv: Q4Gemv;
  /**
   * The prefill matmul (see linear-op.ts). matmul.wgsl stays the default: matmul_reg.wgsl ran 2-3x
   * slower on SwiftShader, and neither it nor matmul_sgmat.wgsl has run on a GPU yet.
   */
  matmul: Matmul;
}

export const DEFAULT_KERNELS: KernelChoice = { fuseNorms: true, fuseAttention: true, fuseSwiglu: true, q4Gemv: 'dot', matmul: 'tile' };

/** Every fusion on or off (the unfused step is what prefill chunks run, one token at a time). */
export const allFused = (fused: boolean, q4Gemv: Q4Gemv = DEFAULT_KERNELS.q4Gemv): KernelChoice => ({ ...DEFAULT_KERNELS, fuseNorms: fused, fuseAttention: fused, fuseSwiglu: fused, q4Gemv });

/** The buffers a step reads or writes from the CPU side; the rest only kernels touch. */
export interface StepBuffers {
  step: GPUBuffer;
  ids: GPUBuffer;
  logits: GPUBuffer;
  seen: GPUBuffer;
  targets: GPUBuffer;
  scores: GPUBuffer;
  scoresReadback: GPUBuffer;
  readback: GPUBuffer[];
  /** Per read-back slot, the sampled token's scores (LlamaModel.decode with `scored`). */
  sampledReadback: GPUBuffer[];
}

/** Every buffer of the model but the weights: `owned` lists them all, for destroy. */
export interface Activations extends StepBuffers {
  owned: GPUBuffer[];
  x: GPUBuffer;
  xn: GPUBuffer;
  qkv: GPUBuffer;
  q: GPUBuffer;
  attn: GPUBuffer;
  gateUp: GPUBuffer;
  h: GPUBuffer;
  work: GPUBuffer;
  partials: GPUBuffer;
  /** The sampler's state and per-slice partials (sample_scan.wgsl, sample_pick.wgsl, sample_draw.wgsl). */
  sampler: { state: GPUBuffer; partials: GPUBuffer };
  /** Where a matrix split into row blocks writes each block's output; absent when none is split. */
  blockScratch: GPUBuffer | undefined;
  kCaches: GPUBuffer[];
  vCaches: GPUBuffer[];
  rope: GPUBuffer;
}

export interface Layer {
  attnNorm: Dispatch;
  qkv: Dispatch;
  /** Qwen2: qkv += its q/k/v biases. */
  qkvBias: Dispatch | undefined;
  /** Qwen3: RMSNorm over each q and k head. */
  qkNorm: Dispatch | undefined;
  ropeKv: Dispatch;
  attention: Dispatch;
  o: Dispatch;
  ffnNorm: Dispatch;
  gateUp: Dispatch;
  swiglu: Dispatch;
  down: Dispatch;
}

export interface Kernels {
  embed: Dispatch;
  layers: Layer[];
  finalNormAll: Dispatch;
  finalNormLast: Dispatch;
  lmHead: Dispatch;
  /** lm_head with the final norm fused in, for one-token steps; only with KernelChoice.fuseNorms. */
  lmHeadDecode: Dispatch | undefined;
  sample: SampleDispatch;
  tokenScores: Dispatch;
  /** token_logprobs.wgsl on logits row 0 with the id `sample` just wrote as its target. */
  sampledScores: Dispatch;
}

/** The activations, scratch and KV cache for `shape`; an allocation failure is `out-of-memory`, with nothing left behind. */
export async function allocateActivations(gpu: Gpu, config: LlamaConfig, shape: RunShape, plan: MemoryPlan): Promise<Activations> {
  const { device } = gpu;
  const { hiddenSize: d, intermediateSize: inter, numHeads, numKvHeads, headDim, vocabSize: v } = config;
  const qDim = numHeads * headDim;
  const kvDim = numKvHeads * headDim;
  const c = shape.maxChunk;
  const owned: GPUBuffer[] = [];
  const make = (label: string, bytes: number, usage?: number) => {
    const buffer = createBuffer(device, label, bytes, usage);
    owned.push(buffer);
    return buffer;
  };
  device.pushErrorScope('out-of-memory');
  const activations: Activations = {
    owned,
    step: make('step', STEP_BYTES, UNIFORM), // Step uniform
    ids: make('ids', c * 4), // (T) u32 token ids; ids[0] receives each sampled token
    x: make('x', c * d * 4), // (T, D) f32 residual stream
    xn: make('xn', c * d * 4), // (T, D) f32 normed input of the next matmul
    qkv: make('qkv', c * (qDim + 2 * kvDim) * 4), // (T, qDim + 2 kvDim) f32
    q: make('q', c * qDim * 4), // (T, qDim) f32 rotated queries
    attn: make('attn', c * qDim * 4), // (T, qDim) f32 attention output
    gateUp: make('gate_up', c * 2 * inter * 4), // (T, 2I) f32
    h: make('h', c * inter * 4), // (T, I) f32
    logits: make('logits', shape.logitsRows * v * 4), // (logitsRows, V) f32
    work: make('sampler work', v * 4), // (V) f32
    seen: make('seen', Math.ceil(v / 32) * 4), // (ceil(V / 32)) u32 bitset
    sampler: {
      state: make('sampler state', sampleScratchBytes(v).state), // (8) u32, sample_state.wgsl
      partials: make('sampler partials', sampleScratchBytes(v).partials), // (ceil(V / 2048), 2 + 16) u32
    },
    // READBACK_SLOTS x (1) u32: each decode step's sampled id, mapped while the next step runs
    readback: Array.from({ length: READBACK_SLOTS }, (_, i) => make(`readback ${i}`, 4, USAGE.MAP_READ | USAGE.COPY_DST)),
    // READBACK_SLOTS x (1 + 2 TOP_LOGPROBS) u32: a scored step's sampled-token logprob and top ids
    sampledReadback: Array.from({ length: READBACK_SLOTS }, (_, i) => make(`sampled scores ${i}`, TOKEN_SCORE_WORDS * 4, USAGE.MAP_READ | USAGE.COPY_DST)),
    targets: make('score targets', shape.logitsRows * 4), // (logitsRows) u32: the id each scored row predicts
    scores: make('scores', shape.logitsRows * TOKEN_SCORE_WORDS * 4), // (logitsRows, 1 + 2 TOP_LOGPROBS) u32, see token_logprobs.wgsl
    scoresReadback: make('scores read-back', shape.contextLength * TOKEN_SCORE_WORDS * 4, USAGE.MAP_READ | USAGE.COPY_DST), // (S, 1 + 2 TOP_LOGPROBS) u32
    // (H, S / chunk, headDim + 2) f32
    partials: make('attention partials', attentionPartialsBytes({ nHeads: numHeads, nKvHeads: numKvHeads, headDim }, shape.contextLength)),
    // (max(T, logitsRows), largest block rows) f32, only when a matrix is split (memory-plan.ts)
    blockScratch: plan.scratchBytes > 0 ? make('row block scratch', plan.scratchBytes) : undefined,
    kCaches: Array.from({ length: config.numLayers }, (_, l) => make(`k cache ${l}`, plan.kvLayerBytes)), // (S, kvDim) kvFormat
    vCaches: Array.from({ length: config.numLayers }, (_, l) => make(`v cache ${l}`, plan.kvLayerBytes)), // (S, kvDim) kvFormat
    rope: createBufferWith(device, 'rope', ropeTable(headDim, shape.contextLength, config.ropeTheta, config.ropeScaling)), // (S, headDim / 2) vec2 f32
  };
  owned.push(activations.rope);
  const oom = await device.popErrorScope();
  if (oom) {
    owned.forEach((buffer) => buffer.destroy());
    throw new EngineError('out-of-memory', `Not enough GPU memory for the KV cache and activations (${oom.message})`);
  }
  return activations;
}

/** Builds every kernel use of the forward pass over `a` and `weights` (pipelines compile meanwhile). */
export async function buildKernels(
  gpu: Gpu,
  config: LlamaConfig,
  shape: RunShape,
  layout: WeightLayout,
  weights: GpuWeights,
  a: Activations,
  kernelChoice: KernelChoice,
): Promise<Kernels> {
  const { hiddenSize: d, intermediateSize: inter, numHeads, numKvHeads, headDim, vocabSize: v, rmsNormEps: eps } = config;
  const { step, x, xn, qkv, q, attn, gateUp, h, logits } = a;
  const matrix = (key: string) => weights.matrices.get(key)!;
  const vector = (key: string) => weights.vectors.get(key)!;
  const heads = { nHeads: numHeads, nKvHeads: numKvHeads, headDim };
  const { kvFormat } = shape;
  const { fuseNorms, fuseAttention, fuseSwiglu, q4Gemv, matmul } = kernelChoice;
  const norm = (gain: GPUBuffer) => (fuseNorms ? { x, gain, eps } : undefined);
  // A matrix split into row blocks (past the binding limit) multiplies through the scratch.
  const linear = (args: Parameters<typeof blockedLinearOp>[1]) => blockedLinearOp(gpu, { ...args, scratch: a.blockScratch });
  const buildLayer = async (l: number): Promise<Layer> => {
    const label = (name: string) => `layer ${l} ${name}`;
    const [kCache, vCache] = [a.kCaches[l], a.vCaches[l]];
    const qkvDim = (numHeads + 2 * numKvHeads) * headDim;
    const [attnNorm, qkvOp, qkvBias, qkNorm, ropeKv, attention, o, ffnNorm, gateUpOp, swiglu, down] = await Promise.all([
      rmsnormOp(gpu, { label: label('attn norm'), step, x, gain: vector(layerKey(l, 'attn_norm')), y: xn, dim: d, eps }),
      linear({ label: label('qkv'), step, x: xn, weight: matrix(layerKey(l, 'qkv')), y: qkv, norm: norm(vector(layerKey(l, 'attn_norm'))), q4Gemv, matmul }),
      config.qkvBias ? biasAddOp(gpu, { label: label('qkv bias'), step, bias: vector(layerKey(l, 'qkv_bias')), y: qkv, dim: qkvDim }) : undefined,
      config.qkNorm
        ? headRmsnormOp(gpu, { label: label('q/k norm'), step, qGain: vector(layerKey(l, 'q_norm')), kGain: vector(layerKey(l, 'k_norm')), qkv, nHeads: numHeads, nKvHeads: numKvHeads, headDim, eps })
        : undefined,
      ropeKvOp(gpu, { label: label('rope'), ...heads, step, qkv, rope: a.rope, q, kCache, vCache, kvFormat }),
      attentionOp(gpu, { label: label('attention'), ...heads, window: config.layerWindows[l], step, q, kCache, vCache, kvFormat, out: attn, partials: a.partials, maxSeq: shape.contextLength, fusedDecode: fuseAttention ? { qkv, rope: a.rope } : undefined }),
      linear({ label: label('o'), step, x: attn, weight: matrix(layerKey(l, 'o')), y: x, accumulate: true, q4Gemv, matmul }),
      rmsnormOp(gpu, { label: label('ffn norm'), step, x, gain: vector(layerKey(l, 'ffn_norm')), y: xn, dim: d, eps }),
      linear({ label: label('gate_up'), step, x: xn, weight: matrix(layerKey(l, 'gate_up')), y: gateUp, norm: norm(vector(layerKey(l, 'ffn_norm'))), swigluInto: fuseSwiglu ? h : undefined, q4Gemv, matmul }),
      swigluOp(gpu, { label: label('swiglu'), step, gateUp, h, inter }),
      linear({ label: label('down'), step, x: h, weight: matrix(layerKey(l, 'down')), y: x, accumulate: true, q4Gemv, matmul }),
    ]);
    return { attnNorm, qkv: qkvOp, qkvBias, qkNorm, ropeKv, attention, o, ffnNorm, gateUp: gateUpOp, swiglu, down };
  };
  const head = matrix(lmHeadKey(layout));
  const [layers, embed, finalNormAll, finalNormLast, lmHead, lmHeadDecode, sample, tokenScores, sampledScores] = await Promise.all([
    Promise.all(Array.from({ length: config.numLayers }, (_, l) => buildLayer(l))),
    blockedEmbeddingOp(gpu, { label: 'embed', step, ids: a.ids, table: matrix('embed'), x }),
    rmsnormOp(gpu, { label: 'final norm', step, x, gain: vector('norm'), y: xn, dim: d, eps }),
    rmsnormOp(gpu, { label: 'final norm (last row)', step, x, gain: vector('norm'), y: xn, dim: d, eps, lastRowOnly: true }),
    linear({ label: 'lm_head', step, x: xn, weight: head, y: logits, matmul }),
    fuseNorms ? linear({ label: 'lm_head (decode)', step, x: xn, weight: head, y: logits, norm: norm(vector('norm')) }) : undefined,
    sampleOp(gpu, { label: 'sample', step, logits, seen: a.seen, work: a.work, ids: a.ids, vocab: v, scratch: a.sampler }),
    tokenLogprobsOp(gpu, { label: 'token logprobs', logits, targets: a.targets, out: a.scores, vocab: v }),
    tokenLogprobsOp(gpu, { label: 'sampled token logprobs', logits, targets: a.ids, out: a.scores, vocab: v }),
  ]);
  return { embed, layers, finalNormAll, finalNormLast, lmHead, lmHeadDecode, sample, tokenScores, sampledScores };
}
