/**
 * One loaded model ready to chat: repo files, GPU model, KV-cache session and prompt format.
 * The worker (browser) and the CLI (Node) both drive the engine through this class.
 */
import { EngineError } from '../errors';
import type { Gpu } from '../gpu/runtime';
import type { FileSource } from '../loader/types';
import { LlamaModel, type LoadOptions, type SamplingParams } from '../model/llama';
import { checkpointWeights, type WeightSource } from '../model/load-weights';
import { ContextWindows } from './context-window';
import { ChatSession, type FinishReason, type GenerateOptions, type GenerationResult } from './generate';
import { PAPER_KOREAN_TEXT } from './korean-text';
import { tokensPerSyllable } from '../tokenizer/syllables';
import { defaultPromptFormat, openRepo, specialTokens, type RepoFiles } from './repo';
import { RAW_FORMAT, vicunaFormat, type ChatMessage, type PromptFormat } from './template';
import { generatedTokens, type GeneratedToken } from './token-text';

export interface ChatSettings extends SamplingParams {
  maxNewTokens: number;
  /** 'auto' = the repo's chat template, else Vicuna v1.1. */
  template?: 'auto' | 'vicuna' | 'raw';
  /** Replaces the default (paper) system prompt when the conversation has none. */
  systemPrompt?: string;
}

/** What one request may add to the settings (the API's `stop` and `logprobs`). */
export interface GenerationSettings extends ChatSettings {
  /** Texts that end the answer (left out of it), besides the prompt format's own. */
  stop?: string[];
  /** Score each generated token: GeneratedToken.logprob and .top. */
  logprobs?: boolean;
}

export interface GenerationCallbacks {
  signal?: AbortSignal;
  /** Each newly visible piece of text, with the tokens that produced it. */
  onText?: (text: string, tokens: GeneratedToken[]) => void;
}

export interface ChatResult extends GenerationResult {
  /** Oldest messages (after the system prompt) the prompt leaves out so it fits the context. */
  droppedTurns: number;
  /** Set when the repo's chat template could not render and the plain format stood in. */
  notice?: string;
}

export interface GenerationStats {
  promptTokens: number;
  prefilledTokens: number;
  newTokens: number;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  contextLength: number;
  droppedTurns: number;
}

/** A finished generation as it leaves the engine (the worker's `done`, the API's usage). */
export interface GenerationDone {
  ids: number[];
  text: string;
  finishReason: FinishReason;
  stats: GenerationStats;
  /** The repo's chat template could not render: why, and that the plain format stood in. */
  notice?: string;
}

export function generationDone(result: GenerationResult & { droppedTurns?: number; notice?: string }, contextLength: number): GenerationDone {
  const stats: GenerationStats = {
    promptTokens: result.promptTokens,
    prefilledTokens: result.prefilledTokens,
    newTokens: result.ids.length,
    prefillTokensPerSecond: result.prefilledTokens / Math.max(result.prefillMs / 1000, 1e-6),
    decodeTokensPerSecond: result.decodedTokens / Math.max(result.decodeMs / 1000, 1e-6),
    contextLength,
    droppedTurns: result.droppedTurns ?? 0,
  };
  return { ids: result.ids, text: result.text, finishReason: result.finishReason, stats, ...(result.notice ? { notice: result.notice } : {}) };
}

/**
 * Logits rows a chat engine keeps, for scoring (token view, CLI score): the forward runs over
 * this many positions per submit and token_logprobs.wgsl reduces each row on the GPU. At 7B
 * (V = 32000) that is 64 x 32000 x 4 B = 8 MiB, a third of the gate_up activations at a
 * 256-token chunk, and 64 rows fill the matmul's 64-row tile; generation reads only row 0.
 */
export const SCORE_ROWS = 64;

export class ChatEngine {
  readonly session: ChatSession;
  /** Where each recent conversation's kept window starts once it overflowed the context. */
  private readonly windows = new ContextWindows();
  private syllableCost?: number;

  private constructor(
    readonly repo: RepoFiles,
    readonly model: LlamaModel,
  ) {
    this.session = new ChatSession(model, repo.tokenizer);
  }

  static async load(gpu: Gpu, source: FileSource, options: LoadOptions): Promise<ChatEngine> {
    const repo = await openRepo(source, options.signal);
    return ChatEngine.fromRepo(gpu, repo, checkpointWeights(repo.tensors, source), options);
  }

  /** Loads weights (from a checkpoint or the cache) for already-read repo files. */
  static async fromRepo(gpu: Gpu, repo: RepoFiles, weights: WeightSource, options: LoadOptions): Promise<ChatEngine> {
    const model = await LlamaModel.load(gpu, repo.config, weights, { vocabLimit: repo.tokenizer.vocabSize, logitsRows: SCORE_ROWS, ...options });
    return new ChatEngine(repo, model);
  }

  promptFormat(settings: Pick<ChatSettings, 'template' | 'systemPrompt'>): PromptFormat {
    const { tokenizer } = this.repo;
    if (settings.template === 'raw') return RAW_FORMAT;
    if (settings.template === 'vicuna') {
      return vicunaFormat(specialTokens(tokenizer), settings.systemPrompt);
    }
    return defaultPromptFormat(this.repo, settings.systemPrompt);
  }

  /**
   * Token ids of the prompt for `messages`, BOS first (once, where the tokenizer has one). Typed
   * text stays text: raw prompts are encoded as typed, templates escape each message.
   */
  promptIds(messages: ChatMessage[], format: PromptFormat): number[] {
    const { tokenizer } = this.repo;
    const text = format.render(messages, { addGenerationPrompt: true });
    if (format.kind === 'raw') return tokenizer.encode(text, { addBos: true });
    // A repo template may write BOS itself (Llama-3's does); never add a second one.
    const { bos } = specialTokens(tokenizer);
    return tokenizer.encodeChat(text, { addBos: bos === '' || !text.startsWith(bos) });
  }

  /** Tokens per Hangul syllable on the paper's Korean (model info: why chars/s differs between models). */
  get tokensPerSyllable(): number {
    this.syllableCost ??= tokensPerSyllable(this.repo.tokenizer, PAPER_KOREAN_TEXT);
    return this.syllableCost;
  }

  /**
   * Answers the last user message of `messages`. When the conversation plus room for the answer
   * overflows the context, the oldest turns (never the system prompt) are dropped in one block
   * and the window is kept for this conversation's next turns (context-window.ts).
   */
  async chat(messages: ChatMessage[], settings: GenerationSettings, options: GenerationCallbacks = {}): Promise<ChatResult> {
    const format = this.promptFormat(settings);
    const system = messages.filter((m) => m.role === 'system');
    const turns = messages.filter((m) => m.role !== 'system');
    const budget = this.session.contextLength - Math.min(settings.maxNewTokens, this.session.contextLength >> 1);
    const { dropped: droppedTurns, prompt } = this.windows.fit(turns, budget, (kept) => this.promptIds([...system, ...kept], format));
    if (prompt.length >= this.session.contextLength) {
      throw new EngineError('context-full', `This message is ${prompt.length} tokens, more than the model's context of ${this.session.contextLength}. Shorten it.`, {
        contextLength: this.session.contextLength,
      });
    }
    const result = await this.session.generate(prompt, this.generateOptions(prompt, settings, format.stopStrings, options));
    return { ...result, droppedTurns, ...(format.notice ? { notice: format.notice } : {}) };
  }

  /**
   * Continues `prompt` as it is, with no chat template (the API's completions): text is encoded
   * with BOS first; ids are used as given.
   */
  async complete(prompt: string | readonly number[], settings: GenerationSettings, options: GenerationCallbacks = {}): Promise<GenerationResult> {
    const { tokenizer } = this.repo;
    const ids = typeof prompt === 'string' ? tokenizer.encode(prompt, { addBos: true }) : [...prompt];
    if (ids.length === 0) throw new EngineError('bad-input', 'The prompt is empty');
    ids.forEach((id) => tokenizer.checkId(id));
    if (ids.length >= this.session.contextLength) {
      throw new EngineError('context-full', `This prompt is ${ids.length} tokens, more than the model's context of ${this.session.contextLength}. Shorten it.`, {
        contextLength: this.session.contextLength,
      });
    }
    return this.session.generate(ids, this.generateOptions(ids, settings, [], options));
  }

  private generateOptions(prompt: number[], settings: GenerationSettings, formatStops: string[], options: GenerationCallbacks): GenerateOptions {
    const { onText } = options;
    let atStart = true;
    return {
      maxNewTokens: Math.min(settings.maxNewTokens, this.session.contextLength - prompt.length),
      sampling: settings,
      stopIds: this.repo.stopIds,
      stopStrings: [...formatStops, ...(settings.stop ?? [])],
      signal: options.signal,
      logprobs: settings.logprobs,
      onText: onText
        ? (text, sampled) => {
            onText(text, generatedTokens(this.repo.tokenizer, sampled, text, atStart));
            atStart = false;
          }
        : undefined,
    };
  }

  dispose(): void {
    this.model.dispose();
  }
}
