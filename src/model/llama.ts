/**
 * The LLaMA forward pass on WebGPU, for every family of families.ts (their differences are the
 * optional qkv bias and q/k norm dispatches and the attention window). Everything is allocated in `load`: buffers, pipelines,
 * bind groups, the KV cache (llama-kernels.ts assembles them). A step then writes the Step uniform, records one compute pass and
 * submits once; decoding reads back a single token id chosen on the GPU.
 *
 * Read `encodeForward` against transformers' modeling_llama.py (LlamaModel.forward,
 * LlamaDecoderLayer.forward): it is the same sequence of operations.
 *
 * Legend: T = tokens in this chunk (<= maxChunk), S = context length, D = hidden size,
 * I = intermediate size, V = vocab, qDim = heads * headDim, kvDim = kv heads * headDim.
 */
import { EngineError } from '../errors';
import { STEP_BYTES, encodeStep, readBuffer } from '../gpu/buffers';
import { CountingPass, TOKEN_SCORE_WORDS, TOP_LOGPROBS, type PassRecorder } from '../gpu/ops';
import type { Gpu } from '../gpu/runtime';
import type { WeightFormat } from '../gpu/shaders';
import type { LlamaConfig } from './config';
import { allFused, allocateActivations, buildKernels, DEFAULT_KERNELS, READBACK_SLOTS, type KernelChoice, type Kernels, type StepBuffers } from './llama-kernels';
import { allocateWeights, type GpuWeights, type LoadProgress, type WeightSource } from './load-weights';
import { bindingLimit, checkPlanFits, planMemory, type MemoryPlan, type RunShape } from './memory-plan';
import { kvFormatFor, weightLayout, type ModelDtype, type WeightLayout } from './weights';

export { allFused, DEFAULT_KERNELS, type KernelChoice } from './llama-kernels';

/** What a submitted step leaves for the CPU: a sampled id (and its scores), every row's logits or scores, or nothing (a prefill chunk before the last). */
type StepOutput = 'sample' | 'sample-scored' | 'logits' | 'scores' | 'none';

/** A chunk of several tokens runs every kernel on its own. */
const UNFUSED = allFused(false);

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

/**
 * A sampled token; `scored` steps add ln p(id) under the model's own distribution (log_softmax of
 * the logits, before temperature, top-k/top-p or the repetition penalty) and the TOP_LOGPROBS
 * likeliest ids with theirs, best first.
 */
export interface SampledToken {
  id: number;
  score?: { logprob: number; topIds: number[]; topLogprobs: number[] };
}

export const GREEDY: SamplingParams = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0 };

export interface LoadOptions extends Partial<RunShape> {
  dtype: ModelDtype;
  /** Overrides the lm_head's storage (for measurements; the default is justified in weights.ts). */
  lmHeadFormat?: WeightFormat;
  /** Overrides the embedding table's storage (tests of the q4 table on tiny models). */
  embedFormat?: WeightFormat;
  kernelChoice?: Partial<KernelChoice>;
  /** Called when the weights are in and only kernel compilation may remain. */
  onCompile?: () => void;
  /** Ids at or above this are never sampled (the tokenizer's vocab may be smaller than V). */
  vocabLimit?: number;
  onProgress?: (progress: LoadProgress) => void;
  signal?: AbortSignal;
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
    private readonly buffers: StepBuffers,
    /** Every buffer but the weights (activations, KV cache, scratch), for dispose. */
    private readonly owned: GPUBuffer[],
    private readonly kernels: Kernels,
    readonly kernelChoice: KernelChoice,
  ) {}

  /** Kernel dispatches the last decode step encoded (counted as they were recorded). */
  dispatchesPerDecode = 0;

  static async load(gpu: Gpu, config: LlamaConfig, weightSource: WeightSource, options: LoadOptions): Promise<LlamaModel> {
    const limit = bindingLimit(gpu.context.limits);
    const shape: RunShape = {
      contextLength: Math.min(options.contextLength ?? config.maxPositions, config.maxPositions),
      maxChunk: options.maxChunk ?? 256,
      // Rows of logits are kept within one binding (a 152k vocabulary is 0.6 MB a row): more
      // than fit are computed in more chunks.
      logitsRows: Math.max(1, Math.min(options.logitsRows ?? 1, Math.floor(limit / (config.vocabSize * 4)))),
      kvFormat: options.kvFormat ?? kvFormatFor(options.dtype),
    };
    const layout = weightLayout(config, options.dtype, weightSource.hasLmHead, options.lmHeadFormat, options.embedFormat);
    weightSource.check(layout);
    // A matrix past the binding limit is split into row blocks (plan.blockRows), never refused.
    const plan = planMemory(config, layout, shape, limit);
    checkPlanFits(plan, gpu.context.limits);

    const activations = await allocateActivations(gpu, config, shape, plan);
    let weights: GpuWeights | undefined;
    try {
      weights = await allocateWeights(gpu, layout, plan.blockRows);
      const kernelChoice = { ...DEFAULT_KERNELS, ...options.kernelChoice };
      // Pipelines compile (in the browser's GPU process / Dawn's threads) while the weights
      // stream in; whatever compiling is left after the last byte is reported as its own phase.
      const kernelsReady = buildKernels(gpu, config, shape, layout, weights, activations, kernelChoice);
      kernelsReady.catch(() => undefined); // if the fill fails, that is the error to report
      await weightSource.fill(gpu, weights, layout, options);
      options.onCompile?.();
      const kernels = await kernelsReady;
      gpu.context.throwIfFailed();
      const vocabLimit = Math.min(options.vocabLimit ?? config.vocabSize, config.vocabSize);
      kernels.sample.plan({ ...GREEDY, vocabLimit });
      return new LlamaModel(gpu, config, options.dtype, shape, plan, vocabLimit, layout, weights, activations, activations.owned, kernels, kernelChoice);
    } catch (error) {
      weights?.destroy();
      activations.owned.forEach((buffer) => buffer.destroy());
      throw error;
    }
  }

  /**
   * One forward pass over a chunk of T tokens at positions pos0 .. pos0 + T - 1. A one-token
   * step may run the same operations in fewer kernels (KernelChoice): each norm inside the
   * GEMV after it, RoPE and the cache store inside attention, SwiGLU inside gate_up.
   */
  private encodeForward(pass: PassRecorder, n: number, pos0: number, fused: KernelChoice): void {
    this.kernels.embed.encode(pass, n); // x = embed_tokens[ids]
    for (const layer of this.kernels.layers) {
      if (!fused.fuseNorms) layer.attnNorm.encode(pass, n); // xn = input_layernorm(x)
      layer.qkv.encode(pass, n); // q, k, v = xn Wq^T, xn Wk^T, xn Wv^T
      layer.qkvBias?.encode(pass, n); // Qwen2: q, k, v += bq, bk, bv
      layer.qkNorm?.encode(pass, n); // Qwen3: q, k = q_norm(q), k_norm(k), per head
      if (!fused.fuseAttention) layer.ropeKv.encode(pass, n); // q, k = rope(q), rope(k); cache[pos] = k, v
      layer.attention.encode(pass, n, pos0); // attn = softmax(q k^T / sqrt(hd) + causal (sliding window) mask) v
      layer.o.encode(pass, n); // x = x + attn Wo^T
      if (!fused.fuseNorms) layer.ffnNorm.encode(pass, n); // xn = post_attention_layernorm(x)
      layer.gateUp.encode(pass, n); // gate, up = xn Wgate^T, xn Wup^T
      if (!fused.fuseSwiglu) layer.swiglu.encode(pass, n); // h = silu(gate) * up
      layer.down.encode(pass, n); // x = x + h Wdown^T
    }
  }

  private writeStep(nTokens: number, pos0: number, sampling: SamplingParams = GREEDY): void {
    this.checkUsable();
    encodeStep({ nTokens, pos0, ...sampling, vocabLimit: this.vocabLimit }, this.stepData);
    this.gpu.device.queue.writeBuffer(this.buffers.step, 0, this.stepData);
    // The sampler records only the passes these settings need (greedy: one; top-k and top-p: 36).
    this.kernels.sample.plan({ ...sampling, vocabLimit: this.vocabLimit });
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
    return (await this.prefillSampled(tokens, pos0, sampling, false)).id;
  }

  /** prefill, and with `scored` the sampled token's log-probability and the likeliest ids (SampledToken). */
  async prefillSampled(tokens: ArrayLike<number>, pos0: number, sampling: SamplingParams, scored: boolean): Promise<SampledToken> {
    if (tokens.length === 0) throw new EngineError('bad-input', 'Nothing to prefill: the prompt is empty');
    this.checkTokens(tokens);
    this.checkPositions(pos0, tokens.length);
    if (this.inFlight > 0) throw new EngineError('internal', 'prefill while decode steps are in flight');
    for (let start = 0; start < tokens.length; start += this.shape.maxChunk) {
      const chunk = Array.prototype.slice.call(tokens, start, start + this.shape.maxChunk) as number[];
      const last = start + chunk.length === tokens.length;
      this.writeStep(chunk.length, pos0 + start, sampling);
      this.gpu.device.queue.writeBuffer(this.buffers.ids, 0, Uint32Array.from(chunk));
      this.submit(chunk.length, pos0 + start, last ? (scored ? 'sample-scored' : 'sample') : 'none');
    }
    return this.readToken(scored);
  }

  /**
   * Feeds the last sampled token (already in ids[0] on the GPU) at `position` and samples the
   * next; returns its id. Submits at once: call the following step before awaiting this one and
   * the GPU never waits for the CPU's read-back (at most READBACK_SLOTS steps in flight).
   */
  decode(position: number, sampling: SamplingParams = GREEDY): Promise<number> {
    return this.decodeSampled(position, sampling, false).then((sampled) => sampled.id);
  }

  /**
   * decode, and with `scored` the sampled token's log-probability and the likeliest ids: the
   * token_logprobs.wgsl kernel scoring uses, run on the sampled row with the sampled id as its
   * target, so a step reads back 1 + 2 TOP_LOGPROBS more words and runs one more dispatch.
   */
  decodeSampled(position: number, sampling: SamplingParams, scored: boolean): Promise<SampledToken> {
    this.checkPositions(position, 1);
    if (this.inFlight >= READBACK_SLOTS) throw new EngineError('internal', `more than ${READBACK_SLOTS} decode steps in flight`);
    this.writeStep(1, position, sampling);
    this.submit(1, position, scored ? 'sample-scored' : 'sample');
    return this.readToken(scored);
  }

  /**
   * Logits (T, V) of every position of `tokens` starting at pos0: V = config.json's vocab_size,
   * rows past the tokenizer's vocabulary included. Runs in chunks of min(maxChunk, logitsRows).
   */
  async logits(tokens: ArrayLike<number>, pos0 = 0): Promise<Float32Array> {
    this.checkTokens(tokens);
    this.checkPositions(pos0, tokens.length);
    const v = this.config.vocabSize;
    const out = new Float32Array(tokens.length * v);
    const rows = Math.min(this.shape.maxChunk, this.shape.logitsRows);
    for (let start = 0; start < tokens.length; start += rows) {
      const chunk = Array.prototype.slice.call(tokens, start, start + rows) as number[];
      this.writeStep(chunk.length, pos0 + start);
      this.gpu.device.queue.writeBuffer(this.buffers.ids, 0, Uint32Array.from(chunk));
      this.submit(chunk.length, pos0 + start, 'logits');
      const values = await readBuffer(this.gpu.device, this.buffers.logits, 0, chunk.length * v * 4);
      out.set(new Float32Array(values), start * v);
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

  private submit(n: number, pos0: number, output: StepOutput): void {
    const encoder = this.gpu.device.createCommandEncoder({ label: 'forward' });
    const computePass = encoder.beginComputePass({ label: 'forward' });
    const pass = new CountingPass(computePass);
    this.encodeStep(pass, n, pos0, output);
    computePass.end();
    if (output === 'sample' && n === 1) this.dispatchesPerDecode = pass.dispatches;
    if (output === 'sample' || output === 'sample-scored') {
      const slot = this.buffers.readback[this.nextSlot];
      encoder.copyBufferToBuffer(this.buffers.ids, 0, slot, 0, 4);
      if (output === 'sample-scored') encoder.copyBufferToBuffer(this.buffers.scores, 0, this.buffers.sampledReadback[this.nextSlot], 0, TOKEN_SCORE_WORDS * 4);
    } else if (output === 'scores') {
      // Scoring starts at position 0, so a chunk's rows land at its first position's row.
      const rowBytes = TOKEN_SCORE_WORDS * 4;
      encoder.copyBufferToBuffer(this.buffers.scores, 0, this.buffers.scoresReadback, pos0 * rowBytes, n * rowBytes);
    }
    this.gpu.device.queue.submit([encoder.finish()]);
  }

  private encodeStep(pass: PassRecorder, n: number, pos0: number, output: StepOutput): void {
    const fused = n === 1 ? this.kernelChoice : UNFUSED;
    this.encodeForward(pass, n, pos0, fused);
    if (output === 'sample' || output === 'sample-scored') {
      if (fused.fuseNorms) {
        this.kernels.lmHeadDecode!.encode(pass, 1); // logits[0] = norm(x[0]) W_lm^T
      } else {
        this.kernels.finalNormLast.encode(pass, n); // xn[0] = norm(x[T - 1])
        this.kernels.lmHead.encode(pass, 1); // logits[0] = xn[0] W_lm^T
      }
      this.kernels.sample.encode(pass, 1); // ids[0] = sample(logits[0])
      if (output === 'sample-scored') this.kernels.sampledScores.encode(pass, 1); // scores[0] = log_softmax(logits[0])[ids[0]], top ids
    } else if (output === 'logits' || output === 'scores') {
      this.kernels.finalNormAll.encode(pass, n); // xn = norm(x)
      this.kernels.lmHead.encode(pass, n); // logits = xn W_lm^T
      if (output === 'scores') this.kernels.tokenScores.encode(pass, n); // scores[t] = log_softmax(logits[t])[targets[t]], top ids
    }
  }

  /** Maps the read-back slot(s) the last submit wrote (starts now; resolves when the GPU is done). */
  private async readToken(scored: boolean): Promise<SampledToken> {
    const slot = this.buffers.readback[this.nextSlot];
    const scoreSlot = this.buffers.sampledReadback[this.nextSlot];
    this.nextSlot = (this.nextSlot + 1) % READBACK_SLOTS;
    this.inFlight++;
    try {
      await Promise.all([slot.mapAsync(GPUMapMode.READ), scored ? scoreSlot.mapAsync(GPUMapMode.READ) : undefined]);
      const id = new Uint32Array(slot.getMappedRange())[0];
      slot.unmap();
      let score: SampledToken['score'];
      if (scored) {
        const words = new Uint32Array(scoreSlot.getMappedRange().slice(0));
        scoreSlot.unmap();
        const floats = new Float32Array(words.buffer);
        score = { logprob: floats[0], topIds: [...words.subarray(1, 1 + TOP_LOGPROBS)], topLogprobs: [...floats.subarray(1 + TOP_LOGPROBS, TOKEN_SCORE_WORDS)] };
      }
      this.gpu.context.throwIfFailed();
      return score ? { id, score } : { id };
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
