/**
 * The LLaMA forward pass on WebGPU. Everything is allocated in `load`: buffers, pipelines,
 * bind groups, the KV cache. A step then writes the Step uniform, records one compute pass and
 * submits once; decoding reads back a single token id chosen on the GPU.
 *
 * Read `encodeForward` against transformers' modeling_llama.py (LlamaModel.forward,
 * LlamaDecoderLayer.forward): it is the same sequence of operations.
 *
 * Legend: T = tokens in this chunk (<= maxChunk), S = context length, D = hidden size,
 * I = intermediate size, V = vocab, qDim = heads * headDim, kvDim = kv heads * headDim.
 */
import { EngineError } from '../errors';
import { STEP_BYTES, UNIFORM, USAGE, createBuffer, createBufferWith, encodeStep, readBuffer } from '../gpu/buffers';
import { attentionOp, attentionPartialsBytes, ropeKvOp } from '../gpu/attention-op';
import { linearOp, type Q4Gemv } from '../gpu/linear-op';
import {
  CountingPass,
  embeddingOp,
  rmsnormOp,
  sampleOp,
  swigluOp,
  TOKEN_SCORE_WORDS,
  TOP_LOGPROBS,
  tokenLogprobsOp,
  type Dispatch,
  type PassRecorder,
} from '../gpu/ops';
import type { Gpu } from '../gpu/runtime';
import type { WeightFormat } from '../gpu/shaders';
import type { LlamaConfig } from './config';
import { allocateWeights, type GpuWeights, type LoadProgress, type WeightSource } from './load-weights';
import { checkPlanFits, planMemory, type MemoryPlan, type RunShape } from './memory-plan';
import { ropeTable } from './rope';
import { kvFormatFor, layerKey, lmHeadKey, weightLayout, type ModelDtype, type WeightLayout } from './weights';

export interface SamplingParams {
  /** 0 = greedy. */
  temperature: number;
  /** 0 = off. */
  topK: number;
  /** 1 = off. */
  topP: number;
  /** 1 = off. */
  repetitionPenalty: number;
  seed: number;
}

/** What `score` returns for n ids: one entry per predicted position i = 0 .. n - 2. */
export interface TokenScores {
  /** (n - 1) ln p(ids[i + 1] | ids[0..i]). */
  logprobs: Float32Array;
  /** (n - 1, TOP_LOGPROBS) the likeliest ids at each position, best first. */
  topIds: Uint32Array;
  /** (n - 1, TOP_LOGPROBS) their log-probabilities. */
  topLogprobs: Float32Array;
}

/** Decode steps that may be submitted before the first of them is read back. */
export const READBACK_SLOTS = 2;

export const GREEDY: SamplingParams = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0 };

/**
 * The kernels of a one-token (decode) step. `fused` folds each RMSNorm into the GEMV after it,
 * RoPE and the KV store into attention (one dispatch up to SINGLE_PASS_KEYS of context) and
 * SwiGLU into the gate/up GEMV's epilogue: 5 dispatches a layer (6 at longer contexts) instead
 * of 10. `q4Gemv` picks the q4 GEMV (see linear-op.ts). The defaults win on the proxies the
 * benchmark measures without a GPU; the alternatives stay until a GPU run has compared them
 * (BENCHMARKS.md, `npm run bench -- --variants`).
 */
export interface DecodeKernels {
  fused: boolean;
  q4Gemv: Q4Gemv;
}

export const DEFAULT_DECODE: DecodeKernels = { fused: true, q4Gemv: 'dot' };

export interface LoadOptions extends Partial<RunShape> {
  dtype: ModelDtype;
  /** Overrides the lm_head's storage (for measurements; the default is justified in weights.ts). */
  lmHeadFormat?: WeightFormat;
  decodeKernels?: Partial<DecodeKernels>;
  /** Called when the weights are in and only kernel compilation may remain. */
  onCompile?: () => void;
  /** Ids at or above this are never sampled (the tokenizer's vocab may be smaller than V). */
  vocabLimit?: number;
  onProgress?: (progress: LoadProgress) => void;
  signal?: AbortSignal;
}

interface Layer {
  attnNorm: Dispatch;
  qkv: Dispatch;
  ropeKv: Dispatch;
  attention: Dispatch;
  o: Dispatch;
  ffnNorm: Dispatch;
  gateUp: Dispatch;
  swiglu: Dispatch;
  down: Dispatch;
}

export class LlamaModel {
  private readonly stepData = new ArrayBuffer(STEP_BYTES);
  private disposed = false;
  private nextSlot = 0;
  private inFlight = 0;

  private constructor(
    readonly gpu: Gpu,
    readonly config: LlamaConfig,
    readonly dtype: ModelDtype,
    readonly shape: RunShape,
    readonly plan: MemoryPlan,
    private readonly vocabLimit: number,
    readonly layout: WeightLayout,
    readonly weights: GpuWeights,
    private readonly buffers: Record<'step' | 'ids' | 'logits' | 'seen' | 'targets' | 'scores' | 'scoresReadback', GPUBuffer> & { readback: GPUBuffer[] },
    private readonly owned: GPUBuffer[],
    private readonly embed: Dispatch,
    private readonly layers: Layer[],
    private readonly finalNormAll: Dispatch,
    private readonly finalNormLast: Dispatch,
    private readonly lmHead: Dispatch,
    /** lm_head with the final norm fused in, for one-token steps; only with fused decode kernels. */
    private readonly lmHeadDecode: Dispatch | undefined,
    private readonly sample: Dispatch,
    private readonly tokenScores: Dispatch,
    readonly decodeKernels: DecodeKernels,
  ) {}

  /** Kernel dispatches the last decode step encoded (counted as they were recorded). */
  dispatchesPerDecode = 0;

  static async load(gpu: Gpu, config: LlamaConfig, weightSource: WeightSource, options: LoadOptions): Promise<LlamaModel> {
    const { device } = gpu;
    const shape: RunShape = {
      contextLength: Math.min(options.contextLength ?? config.maxPositions, config.maxPositions),
      maxChunk: options.maxChunk ?? 256,
      logitsRows: options.logitsRows ?? 1,
      kvFormat: options.kvFormat ?? kvFormatFor(options.dtype),
    };
    const layout = weightLayout(config, options.dtype, weightSource.hasLmHead, options.lmHeadFormat);
    weightSource.check(layout);
    const plan = planMemory(config, layout, shape);
    checkPlanFits(plan, gpu.context.limits);

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
    const step = make('step', STEP_BYTES, UNIFORM); // Step uniform
    const ids = make('ids', c * 4); // (T) u32 token ids; ids[0] receives each sampled token
    const x = make('x', c * d * 4); // (T, D) f32 residual stream
    const xn = make('xn', c * d * 4); // (T, D) f32 normed input of the next matmul
    const qkv = make('qkv', c * (qDim + 2 * kvDim) * 4); // (T, qDim + 2 kvDim) f32
    const q = make('q', c * qDim * 4); // (T, qDim) f32 rotated queries
    const attn = make('attn', c * qDim * 4); // (T, qDim) f32 attention output
    const gateUp = make('gate_up', c * 2 * inter * 4); // (T, 2I) f32
    const h = make('h', c * inter * 4); // (T, I) f32
    const logits = make('logits', shape.logitsRows * v * 4); // (logitsRows, V) f32
    const work = make('sampler work', v * 4); // (V) f32
    const seen = make('seen', Math.ceil(v / 32) * 4); // (ceil(V / 32)) u32 bitset
    // READBACK_SLOTS x (1) u32: each decode step's sampled id, mapped while the next step runs
    const readback = Array.from({ length: READBACK_SLOTS }, (_, i) => make(`readback ${i}`, 4, USAGE.MAP_READ | USAGE.COPY_DST));
    const targets = make('score targets', shape.logitsRows * 4); // (logitsRows) u32: the id each scored row predicts
    const scores = make('scores', shape.logitsRows * TOKEN_SCORE_WORDS * 4); // (logitsRows, 1 + 2 TOP_LOGPROBS) u32, see token_logprobs.wgsl
    const scoresReadback = make('scores read-back', shape.contextLength * TOKEN_SCORE_WORDS * 4, USAGE.MAP_READ | USAGE.COPY_DST); // (S, 1 + 2 TOP_LOGPROBS) u32
    const heads = { nHeads: numHeads, nKvHeads: numKvHeads, headDim };
    const partials = make('attention partials', attentionPartialsBytes(heads, shape.contextLength)); // (H, S / chunk, headDim + 2) f32
    const kvFormat = shape.kvFormat;
    const kCaches = Array.from({ length: config.numLayers }, (_, l) => make(`k cache ${l}`, plan.kvLayerBytes)); // (S, kvDim) kvFormat
    const vCaches = Array.from({ length: config.numLayers }, (_, l) => make(`v cache ${l}`, plan.kvLayerBytes)); // (S, kvDim) kvFormat
    const rope = createBufferWith(device, 'rope', ropeTable(headDim, shape.contextLength, config.ropeTheta, config.ropeScaling)); // (S, headDim / 2) vec2 f32
    owned.push(rope);
    const oom = await device.popErrorScope();
    if (oom) {
      owned.forEach((buffer) => buffer.destroy());
      throw new EngineError('out-of-memory', `Not enough GPU memory for the KV cache and activations (${oom.message})`);
    }

    let weights: GpuWeights | undefined;
    try {
      weights = await allocateWeights(gpu, layout);
      const allocated = weights;
      const matrix = (key: string) => allocated.matrices.get(key)!;
      const vector = (key: string) => allocated.vectors.get(key)!;
      const eps = config.rmsNormEps;
      const decodeKernels = { ...DEFAULT_DECODE, ...options.decodeKernels };
      const { fused, q4Gemv } = decodeKernels;
      const norm = (gain: GPUBuffer) => (fused ? { x, gain, eps } : undefined);
      const buildLayer = async (l: number): Promise<Layer> => {
        const label = (name: string) => `layer ${l} ${name}`;
        const [kCache, vCache] = [kCaches[l], vCaches[l]];
        const [attnNorm, qkvOp, ropeKv, attention, o, ffnNorm, gateUpOp, swiglu, down] = await Promise.all([
          rmsnormOp(gpu, { label: label('attn norm'), step, x, gain: vector(layerKey(l, 'attn_norm')), y: xn, dim: d, eps }),
          linearOp(gpu, { label: label('qkv'), step, x: xn, weight: matrix(layerKey(l, 'qkv')), y: qkv, norm: norm(vector(layerKey(l, 'attn_norm'))), q4Gemv }),
          ropeKvOp(gpu, { label: label('rope'), ...heads, step, qkv, rope, q, kCache, vCache, kvFormat }),
          attentionOp(gpu, { label: label('attention'), ...heads, step, q, kCache, vCache, kvFormat, out: attn, partials, maxSeq: shape.contextLength, fusedDecode: fused ? { qkv, rope } : undefined }),
          linearOp(gpu, { label: label('o'), step, x: attn, weight: matrix(layerKey(l, 'o')), y: x, accumulate: true, q4Gemv }),
          rmsnormOp(gpu, { label: label('ffn norm'), step, x, gain: vector(layerKey(l, 'ffn_norm')), y: xn, dim: d, eps }),
          linearOp(gpu, { label: label('gate_up'), step, x: xn, weight: matrix(layerKey(l, 'gate_up')), y: gateUp, norm: norm(vector(layerKey(l, 'ffn_norm'))), swigluInto: fused ? h : undefined, q4Gemv }),
          swigluOp(gpu, { label: label('swiglu'), step, gateUp, h, inter }),
          linearOp(gpu, { label: label('down'), step, x: h, weight: matrix(layerKey(l, 'down')), y: x, accumulate: true, q4Gemv }),
        ]);
        return { attnNorm, qkv: qkvOp, ropeKv, attention, o, ffnNorm, gateUp: gateUpOp, swiglu, down };
      };
      const buildOps = () =>
        Promise.all([
          Promise.all(Array.from({ length: config.numLayers }, (_, l) => buildLayer(l))),
          embeddingOp(gpu, { label: 'embed', step, ids, table: matrix('embed'), x }),
          rmsnormOp(gpu, { label: 'final norm', step, x, gain: vector('norm'), y: xn, dim: d, eps }),
          rmsnormOp(gpu, { label: 'final norm (last row)', step, x, gain: vector('norm'), y: xn, dim: d, eps, lastRowOnly: true }),
          linearOp(gpu, { label: 'lm_head', step, x: xn, weight: matrix(lmHeadKey(layout)), y: logits }),
          fused ? linearOp(gpu, { label: 'lm_head (decode)', step, x: xn, weight: matrix(lmHeadKey(layout)), y: logits, norm: norm(vector('norm')) }) : undefined,
          sampleOp(gpu, { label: 'sample', step, logits, seen, work, ids, vocab: v }),
          tokenLogprobsOp(gpu, { label: 'token logprobs', logits, targets, out: scores, vocab: v }),
        ]);

      // Pipelines compile (in the browser's GPU process / Dawn's threads) while the weights
      // stream in; whatever compiling is left after the last byte is reported as its own phase.
      const opsReady = buildOps();
      opsReady.catch(() => undefined); // if the fill fails, that is the error to report
      await weightSource.fill(gpu, allocated, layout, options);
      options.onCompile?.();
      const [layers, embed, finalNormAll, finalNormLast, lmHead, lmHeadDecode, sample, tokenScores] = await opsReady;
      gpu.context.throwIfFailed();
      const vocabLimit = Math.min(options.vocabLimit ?? v, v);
      const buffers = { step, ids, logits, seen, targets, scores, scoresReadback, readback };
      return new LlamaModel(gpu, config, options.dtype, shape, plan, vocabLimit, layout, allocated, buffers, owned, embed, layers, finalNormAll, finalNormLast, lmHead, lmHeadDecode, sample, tokenScores, decodeKernels);
    } catch (error) {
      weights?.destroy();
      owned.forEach((buffer) => buffer.destroy());
      throw error;
    }
  }

  /**
   * One forward pass over a chunk of T tokens at positions pos0 .. pos0 + T - 1. A fused
   * one-token step runs the same operations in fewer kernels: each norm inside the GEMV after
   * it, RoPE and the cache store inside attention, SwiGLU inside gate_up (DecodeKernels).
   */
  private encodeForward(pass: PassRecorder, n: number, pos0: number, fused: boolean): void {
    this.embed.encode(pass, n); // x = embed_tokens[ids]
    for (const layer of this.layers) {
      if (!fused) layer.attnNorm.encode(pass, n); // xn = input_layernorm(x)
      layer.qkv.encode(pass, n); // q, k, v = xn Wq^T, xn Wk^T, xn Wv^T
      if (!fused) layer.ropeKv.encode(pass, n); // q, k = rope(q), rope(k); cache[pos] = k, v
      layer.attention.encode(pass, n, pos0); // attn = softmax(q k^T / sqrt(hd) + causal mask) v
      layer.o.encode(pass, n); // x = x + attn Wo^T
      if (!fused) layer.ffnNorm.encode(pass, n); // xn = post_attention_layernorm(x)
      layer.gateUp.encode(pass, n); // gate, up = xn Wgate^T, xn Wup^T
      if (!fused) layer.swiglu.encode(pass, n); // h = silu(gate) * up
      layer.down.encode(pass, n); // x = x + h Wdown^T
    }
  }

  private writeStep(nTokens: number, pos0: number, sampling: SamplingParams = GREEDY): void {
    this.checkUsable();
    encodeStep({ nTokens, pos0, ...sampling, vocabLimit: this.vocabLimit }, this.stepData);
    this.gpu.device.queue.writeBuffer(this.buffers.step, 0, this.stepData);
  }

  private checkPositions(pos0: number, count: number): void {
    if (pos0 + count > this.shape.contextLength) {
      throw new EngineError('context-full', `The context holds ${this.shape.contextLength} tokens; ${pos0 + count} were asked for.`, {
        contextLength: this.shape.contextLength,
      });
    }
  }

  private checkTokens(tokens: ArrayLike<number>): void {
    for (let i = 0; i < tokens.length; i++) {
      const id = tokens[i];
      if (!Number.isInteger(id) || id < 0 || id >= this.config.vocabSize) {
        throw new EngineError('bad-input', `Token id ${id} is outside the vocabulary (0 .. ${this.config.vocabSize - 1})`);
      }
    }
  }

  /** Marks the ids the repetition penalty should see (the whole context so far). */
  setSeenTokens(tokens: ArrayLike<number>): void {
    this.checkUsable();
    const bits = new Uint32Array(Math.ceil(this.config.vocabSize / 32));
    for (let i = 0; i < tokens.length; i++) bits[tokens[i] >> 5] |= 1 << (tokens[i] & 31);
    this.gpu.device.queue.writeBuffer(this.buffers.seen, 0, bits);
  }

  /**
   * Runs `tokens` at positions pos0 .. (filling the KV cache), then samples the next token.
   * Returns its id. No decode step may be in flight.
   */
  async prefill(tokens: ArrayLike<number>, pos0: number, sampling: SamplingParams = GREEDY): Promise<number> {
    if (tokens.length === 0) throw new EngineError('bad-input', 'Nothing to prefill: the prompt is empty');
    this.checkTokens(tokens);
    this.checkPositions(pos0, tokens.length);
    if (this.inFlight > 0) throw new EngineError('internal', 'prefill while decode steps are in flight');
    for (let start = 0; start < tokens.length; start += this.shape.maxChunk) {
      const chunk = Array.prototype.slice.call(tokens, start, start + this.shape.maxChunk) as number[];
      const last = start + chunk.length === tokens.length;
      this.writeStep(chunk.length, pos0 + start, sampling);
      this.gpu.device.queue.writeBuffer(this.buffers.ids, 0, Uint32Array.from(chunk));
      this.submit(chunk.length, pos0 + start, last ? 'sample' : 'none');
    }
    return this.readToken();
  }

  /**
   * Feeds the last sampled token (already in ids[0] on the GPU) at `position` and samples the
   * next; returns its id. Submits at once: call the following step before awaiting this one and
   * the GPU never waits for the CPU's read-back (at most READBACK_SLOTS steps in flight).
   */
  decode(position: number, sampling: SamplingParams = GREEDY): Promise<number> {
    this.checkPositions(position, 1);
    if (this.inFlight >= READBACK_SLOTS) throw new EngineError('internal', `more than ${READBACK_SLOTS} decode steps in flight`);
    this.writeStep(1, position, sampling);
    this.submit(1, position, 'sample');
    return this.readToken();
  }

  /** Logits (T, V) of every position of `tokens` starting at pos0 (needs logitsRows = maxChunk). */
  async logits(tokens: ArrayLike<number>, pos0 = 0): Promise<Float32Array> {
    if (this.shape.logitsRows < Math.min(tokens.length, this.shape.maxChunk)) {
      throw new EngineError('bad-input', 'This model was loaded without all-position logits (logitsRows)');
    }
    this.checkTokens(tokens);
    this.checkPositions(pos0, tokens.length);
    const v = this.config.vocabSize;
    const out = new Float32Array(tokens.length * v);
    for (let start = 0; start < tokens.length; start += this.shape.maxChunk) {
      const chunk = Array.prototype.slice.call(tokens, start, start + this.shape.maxChunk) as number[];
      this.writeStep(chunk.length, pos0 + start);
      this.gpu.device.queue.writeBuffer(this.buffers.ids, 0, Uint32Array.from(chunk));
      this.submit(chunk.length, pos0 + start, 'logits');
      const rows = await readBuffer(this.gpu.device, this.buffers.logits, 0, chunk.length * v * 4);
      out.set(new Float32Array(rows), start * v);
    }
    this.gpu.context.throwIfFailed();
    return out;
  }

  /**
   * For each i < n - 1: ln p(tokens[i + 1] | tokens[0..i]) and the TOP_LOGPROBS likeliest ids,
   * from position 0. The forward runs in chunks of min(maxChunk, logitsRows) positions and
   * token_logprobs.wgsl reduces each logits row on the GPU, so a row costs 1 + 2 TOP_LOGPROBS
   * words of read-back instead of V floats, and every chunk is read back once at the end.
   * Overwrites KV cache rows 0 .. n - 2 (ChatSession.score keeps its cached prefix true).
   */
  async score(tokens: ArrayLike<number>): Promise<TokenScores> {
    const inputs = tokens.length - 1; // the last id is only predicted, never run
    if (inputs < 1) throw new EngineError('bad-input', 'Scoring needs at least two tokens');
    this.checkTokens(tokens);
    this.checkPositions(0, inputs);
    if (this.inFlight > 0) throw new EngineError('internal', 'score while decode steps are in flight');
    const rows = Math.min(this.shape.maxChunk, this.shape.logitsRows);
    const { device } = this.gpu;
    for (let start = 0; start < inputs; start += rows) {
      const n = Math.min(rows, inputs - start);
      this.writeStep(n, start);
      device.queue.writeBuffer(this.buffers.ids, 0, Uint32Array.from(Array.prototype.slice.call(tokens, start, start + n) as number[]));
      device.queue.writeBuffer(this.buffers.targets, 0, Uint32Array.from(Array.prototype.slice.call(tokens, start + 1, start + n + 1) as number[]));
      this.submit(n, start, 'scores');
    }
    const bytes = inputs * TOKEN_SCORE_WORDS * 4;
    const readback = this.buffers.scoresReadback;
    await readback.mapAsync(GPUMapMode.READ, 0, bytes);
    const words = new Uint32Array(readback.getMappedRange(0, bytes).slice(0));
    readback.unmap();
    this.gpu.context.throwIfFailed();
    const floats = new Float32Array(words.buffer);
    const result: TokenScores = { logprobs: new Float32Array(inputs), topIds: new Uint32Array(inputs * TOP_LOGPROBS), topLogprobs: new Float32Array(inputs * TOP_LOGPROBS) };
    for (let i = 0; i < inputs; i++) {
      const at = i * TOKEN_SCORE_WORDS;
      result.logprobs[i] = floats[at];
      result.topIds.set(words.subarray(at + 1, at + 1 + TOP_LOGPROBS), i * TOP_LOGPROBS);
      result.topLogprobs.set(floats.subarray(at + 1 + TOP_LOGPROBS, at + TOKEN_SCORE_WORDS), i * TOP_LOGPROBS);
    }
    return result;
  }

  /**
   * Kernel dispatches a decode step at `position` records, counted by encoding it into a
   * recorder that only counts (nothing reaches the GPU). The benchmark reports these.
   */
  countDecodeDispatches(position: number): number {
    const pass = new CountingPass({ setPipeline() {}, setBindGroup() {}, dispatchWorkgroups() {} });
    this.encodeStep(pass, 1, position, 'sample');
    return pass.dispatches;
  }

  private submit(n: number, pos0: number, output: 'sample' | 'logits' | 'scores' | 'none'): void {
    const encoder = this.gpu.device.createCommandEncoder({ label: 'forward' });
    const computePass = encoder.beginComputePass({ label: 'forward' });
    const pass = new CountingPass(computePass);
    this.encodeStep(pass, n, pos0, output);
    computePass.end();
    if (output === 'sample' && n === 1) this.dispatchesPerDecode = pass.dispatches;
    if (output === 'sample') {
      const slot = this.buffers.readback[this.nextSlot];
      encoder.copyBufferToBuffer(this.buffers.ids, 0, slot, 0, 4);
    } else if (output === 'scores') {
      // Scoring starts at position 0, so a chunk's rows land at its first position's row.
      const rowBytes = TOKEN_SCORE_WORDS * 4;
      encoder.copyBufferToBuffer(this.buffers.scores, 0, this.buffers.scoresReadback, pos0 * rowBytes, n * rowBytes);
    }
    this.gpu.device.queue.submit([encoder.finish()]);
  }

  private encodeStep(pass: PassRecorder, n: number, pos0: number, output: 'sample' | 'logits' | 'scores' | 'none'): void {
    const fused = n === 1 && this.decodeKernels.fused;
    this.encodeForward(pass, n, pos0, fused);
    if (output === 'sample') {
      if (fused) {
        this.lmHeadDecode!.encode(pass, 1); // logits[0] = norm(x[0]) W_lm^T
      } else {
        this.finalNormLast.encode(pass, n); // xn[0] = norm(x[T - 1])
        this.lmHead.encode(pass, 1); // logits[0] = xn[0] W_lm^T
      }
      this.sample.encode(pass, 1); // ids[0] = sample(logits[0])
    } else if (output === 'logits' || output === 'scores') {
      this.finalNormAll.encode(pass, n); // xn = norm(x)
      this.lmHead.encode(pass, n); // logits = xn W_lm^T
      if (output === 'scores') this.tokenScores.encode(pass, n); // scores[t] = log_softmax(logits[t])[targets[t]], top ids
    }
  }

  /** Maps the read-back slot the last submit wrote (starts now; resolves when the GPU is done). */
  private async readToken(): Promise<number> {
    const slot = this.buffers.readback[this.nextSlot];
    this.nextSlot = (this.nextSlot + 1) % READBACK_SLOTS;
    this.inFlight++;
    try {
      await slot.mapAsync(GPUMapMode.READ);
      const id = new Uint32Array(slot.getMappedRange())[0];
      slot.unmap();
      this.gpu.context.throwIfFailed();
      return id;
    } finally {
      this.inFlight--;
    }
  }

  private checkUsable(): void {
    if (this.disposed) throw new EngineError('internal', 'This model was unloaded');
  }

  /** Frees every GPU buffer of this model. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.weights.destroy();
    this.owned.forEach((buffer) => buffer.destroy());
  }
}
