/**
 * One loaded model ready to chat: repo files, GPU model, KV-cache session and prompt format.
 * The worker (browser) and the CLI (Node) both drive the engine through this class.
 */
import { EngineError } from '../errors';
import type { Gpu } from '../gpu/runtime';
import type { FileSource } from '../loader/types';
import { LlamaModel, type LoadOptions, type SamplingParams } from '../model/llama';
import { checkpointWeights, type WeightSource } from '../model/load-weights';
import { ChatSession, type GenerationResult } from './generate';
import { defaultPromptFormat, openRepo, specialTokens, type RepoFiles } from './repo';
import { RAW_FORMAT, vicunaFormat, type ChatMessage, type PromptFormat } from './template';

export interface ChatSettings extends SamplingParams {
  maxNewTokens: number;
  /** 'auto' = the repo's chat template, else Vicuna v1.1. */
  template?: 'auto' | 'vicuna' | 'raw';
  /** Replaces the default (paper) system prompt when the conversation has none. */
  systemPrompt?: string;
}

export interface ChatResult extends GenerationResult {
  /** Oldest turns dropped so the conversation fits the context. */
  droppedTurns: number;
}

export class ChatEngine {
  readonly session: ChatSession;

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
    const model = await LlamaModel.load(gpu, repo.config, weights, { vocabLimit: repo.tokenizer.vocabSize, ...options });
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

  /** Token ids of the prompt for `messages`, BOS first (once). */
  promptIds(messages: ChatMessage[], format: PromptFormat): number[] {
    const { tokenizer } = this.repo;
    const text = format.render(messages, { addGenerationPrompt: true });
    if (format.kind === 'raw') return tokenizer.encode(text, { addBos: true });
    // A repo template may write BOS itself; never add a second one.
    return tokenizer.encodeChat(text, { addBos: !text.startsWith(specialTokens(tokenizer).bos) });
  }

  /**
   * Answers the last user message of `messages`. Drops the oldest turns (never the system
   * prompt) when the conversation plus maxNewTokens would overflow the context.
   */
  async chat(messages: ChatMessage[], settings: ChatSettings, options: { signal?: AbortSignal; onText?: (text: string) => void } = {}): Promise<ChatResult> {
    const format = this.promptFormat(settings);
    const system = messages.filter((m) => m.role === 'system');
    let turns = messages.filter((m) => m.role !== 'system');
    let droppedTurns = 0;
    let prompt = this.promptIds([...system, ...turns], format);
    const budget = this.session.contextLength - Math.min(settings.maxNewTokens, this.session.contextLength >> 1);
    while (prompt.length > budget && turns.length > 1) {
      // Drop the oldest exchange: a user message and the answer that followed it.
      const cut = turns[1]?.role === 'assistant' ? 2 : 1;
      turns = turns.slice(cut);
      droppedTurns += cut;
      prompt = this.promptIds([...system, ...turns], format);
    }
    if (prompt.length >= this.session.contextLength) {
      throw new EngineError('context-full', `This message is ${prompt.length} tokens, more than the model's context of ${this.session.contextLength}. Shorten it.`, {
        contextLength: this.session.contextLength,
      });
    }
    const maxNewTokens = Math.min(settings.maxNewTokens, this.session.contextLength - prompt.length);
    const result = await this.session.generate(prompt, {
      maxNewTokens,
      sampling: settings,
      stopIds: this.repo.stopIds,
      stopStrings: format.stopStrings,
      signal: options.signal,
      onText: options.onText,
    });
    return { ...result, droppedTurns };
  }

  dispose(): void {
    this.model.dispose();
  }
}
