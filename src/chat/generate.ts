/**
 * The generation loop over one model's KV cache: prefill the prompt (reusing the longest prefix
 * already in the cache from the previous turn), then decode one token per submit, streaming
 * text that never splits a UTF-8 character or shows part of a stop string.
 */
import { EngineError } from '../errors';
import type { LlamaModel, SampledToken, SamplingParams, TokenScores } from '../model/llama';
import type { Tokenizer } from '../tokenizer/tokenizer';
import { StopStringFilter } from './stop-strings';

export type FinishReason = 'eos' | 'stop-string' | 'length' | 'context-full' | 'cancelled';

export interface GenerateOptions {
  maxNewTokens: number;
  sampling: SamplingParams;
  stopIds: number[];
  stopStrings?: string[];
  signal?: AbortSignal;
  /** Score each sampled token (its log-probability and the likeliest alternatives): one more kernel a step. */
  logprobs?: boolean;
  /**
   * Called with each newly visible piece of text and the tokens sampled since the last piece
   * (a Hangul syllable may take three byte tokens; a held-back stop-string prefix waits too).
   * The stop id and the tokens of a stop string are never passed.
   */
  onText?: (text: string, tokens: SampledToken[]) => void;
}

export interface GenerationResult {
  /** Ids sampled, the stop id included when there was one. */
  ids: number[];
  text: string;
  finishReason: FinishReason;
  promptTokens: number;
  /** Prompt tokens actually run (the rest came from the cache). */
  prefilledTokens: number;
  prefillMs: number;
  decodeMs: number;
  /** Tokens produced by decode steps (all but the first). */
  decodedTokens: number;
}

export class ChatSession {
  /** Tokens whose keys and values are in the model's KV cache, in order. */
  private cached: number[] = [];

  constructor(
    readonly model: LlamaModel,
    readonly tokenizer: Tokenizer,
  ) {}

  get contextLength(): number {
    return this.model.shape.contextLength;
  }

  /** Forget the cache (a new conversation). */
  reset(): void {
    this.cached = [];
  }

  /**
   * Scores `ids` (LlamaModel.score), which rewrites KV rows 0 .. n - 2 with ids[0 .. n - 2]. The
   * cache then holds those, or still all it held when they were a prefix of it (later rows were
   * computed on the same prefix), so the next turn reuses what is really there.
   */
  async score(ids: number[]): Promise<TokenScores> {
    const before = this.cached;
    const written = ids.slice(0, -1);
    this.cached = []; // unknown if scoring fails midway
    const scores = await this.model.score(ids);
    const prefixOfBefore = written.length <= before.length && written.every((id, i) => before[i] === id);
    this.cached = prefixOfBefore ? before : written;
    return scores;
  }

  async generate(prompt: number[], options: GenerateOptions): Promise<GenerationResult> {
    const limit = this.contextLength;
    if (prompt.length >= limit) {
      throw new EngineError('context-full', `The prompt is ${prompt.length} tokens; the context holds ${limit}.`, { promptTokens: prompt.length, contextLength: limit });
    }
    // Reuse the cached prefix; at least one prompt token must run to produce logits.
    let reuse = 0;
    while (reuse < this.cached.length && reuse < prompt.length - 1 && this.cached[reuse] === prompt[reuse]) reuse++;
    this.cached = prompt.slice(0, reuse);

    const decoder = this.tokenizer.streamingDecoder();
    const stops = new StopStringFilter(options.stopStrings ?? []);
    const stopIds = new Set(options.stopIds);
    const ids: number[] = [];
    let text = '';
    let pending: SampledToken[] = [];
    const emit = (piece: string) => {
      if (!piece) return;
      text += piece;
      options.onText?.(piece, pending);
      pending = [];
    };
    const scored = options.logprobs === true;

    this.model.setSeenTokens(prompt);
    const prefillStart = performance.now();
    let sampled = await this.model.prefillSampled(prompt.slice(reuse), reuse, options.sampling, scored);
    this.cached = [...prompt];
    const prefillMs = performance.now() - prefillStart;
    const decodeStart = performance.now();
    // Decode steps in flight, oldest first. Each feeds the token the previous step sampled (it
    // stays on the GPU), so the next step is submitted before this one is read back and the GPU
    // never idles on the round trip; a step started past a stop is simply discarded.
    const inFlight: Promise<SampledToken>[] = [];
    let finishReason: FinishReason = 'length';
    for (;;) {
      const token = sampled.id;
      ids.push(token);
      if (stopIds.has(token)) {
        finishReason = 'eos';
        break;
      }
      pending.push(sampled);
      emit(stops.push(decoder.push(token)));
      if (stops.stopped) {
        finishReason = 'stop-string';
        break;
      }
      if (ids.length >= options.maxNewTokens) break;
      if (this.cached.length + 1 > limit) {
        finishReason = 'context-full';
        break;
      }
      if (options.signal?.aborted) {
        finishReason = 'cancelled';
        break;
      }
      // Step feeding `token` at cached.length, then (speculatively) the one after it.
      const position = this.cached.length;
      if (inFlight.length === 0) inFlight.push(this.model.decodeSampled(position, options.sampling, scored));
      if (ids.length + 1 < options.maxNewTokens && position + 2 <= limit) inFlight.push(this.model.decodeSampled(position + 1, options.sampling, scored));
      sampled = await inFlight.shift()!;
      this.cached.push(ids[ids.length - 1]);
    }
    // Let speculative steps finish so their read-back buffers are free; their results are unused
    // and the KV rows they wrote lie past `cached`, to be overwritten.
    await Promise.all(inFlight);
    if (finishReason !== 'stop-string') emit(stops.push(decoder.flush()) + stops.flush());
    return {
      ids,
      text,
      finishReason,
      promptTokens: prompt.length,
      prefilledTokens: prompt.length - reuse,
      prefillMs,
      decodeMs: performance.now() - decodeStart,
      decodedTokens: ids.length - 1,
    };
  }
}
