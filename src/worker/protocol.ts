/**
 * The typed message protocol between the UI thread and the engine worker. Everything crossing
 * is structured-clone data: errors travel as ErrorData, never as thrown objects.
 * Each request carries a requestId; every event answers one (progress and tokens stream, then
 * exactly one `done`, `loaded`, `ok` or `error`).
 */
import type { GenerationDone, GenerationSettings } from '../chat/engine';
import type { GenerationDefaults } from '../chat/generation-config';
import type { LoadCost } from '../chat/load-cost';
import type { OpenPhase } from '../chat/open-engine';
import type { ScoredText, ScoreInput } from '../chat/score';
import type { ChatMessage } from '../chat/template';
import type { GeneratedToken } from '../chat/token-text';
import type { ErrorData } from '../errors';
import type { WeightFormat } from '../gpu/shaders';
import type { ModelDtype } from '../model/weights';

/** Where a model comes from: a hub repo (default endpoint https://huggingface.co). */
export interface ModelSpec {
  repo: string;
  revision?: string;
  endpoint?: string;
  token?: string;
}

export interface LoadRequest {
  /** Which loaded model this is (one per tab; Compare uses two). */
  slot: string;
  spec: ModelSpec;
  dtype: ModelDtype;
  contextLength?: number;
}

export type WorkerRequest =
  | ({ type: 'load'; requestId: number } & LoadRequest)
  | { type: 'generate'; requestId: number; slot: string; messages: ChatMessage[]; settings: GenerationSettings }
  /** A raw prompt (text, BOS added; or token ids) continued without a chat template. */
  | { type: 'complete'; requestId: number; slot: string; prompt: string | number[]; settings: GenerationSettings }
  /** Stops the generation or load with id `target`. */
  | { type: 'stop'; requestId: number; target: number }
  | { type: 'unload'; requestId: number; slot: string }
  | { type: 'reset'; requestId: number; slot: string }
  /** How likely the slot's model finds a text or an answer, token by token (chat/score.ts). */
  | { type: 'score'; requestId: number; slot: string; input: ScoreInput }
  | { type: 'cache-list'; requestId: number }
  | { type: 'cache-delete'; requestId: number; id: string }
  | { type: 'probe'; requestId: number }
  /** What loading would take (download, disk, GPU, room, license), asked before the first Load. */
  | ({ type: 'estimate'; requestId: number } & Omit<LoadRequest, 'slot'>);

export type LoadPhase = OpenPhase;

export interface LoadProgressEvent {
  phase: LoadPhase;
  /** File being read, when the phase has one. */
  file?: string;
  doneBytes: number;
  totalBytes: number;
  /** Download only: bytes an interrupted earlier load had converted and cached (the download resumed there). */
  resumedBytes?: number;
  bytesPerSecond?: number;
  etaSeconds?: number;
  /** The cached copy was damaged (why) and was thrown away: this load downloads the model again. */
  cacheDamaged?: string;
}

export interface TokenizerInfo {
  kind: 'sentencepiece' | 'byte-level';
  vocabSize: number;
  /** Tokens per Hangul syllable on the Korean-Vicuna paper's text. */
  tokensPerSyllable: number;
  /** Whether the repo has its own chat template (used by default). */
  chatTemplate: boolean;
}

export interface LoadedInfo {
  slot: string;
  repo: string;
  dtype: ModelDtype;
  contextLength: number;
  fromCache: boolean;
  /** The hub commit the weights come from, when known. */
  commit?: string;
  /** From the cache unchecked: the hub could not be reached (offline). */
  offline?: boolean;
  /** GPU bytes this model holds (weights, KV cache, activations). */
  gpuBytes: number;
  /** Checkpoint matrices per storage format: at q4, those not in q4 are f16 (tables, and widths q4 cannot group). */
  tensorFormats: Partial<Record<WeightFormat, number>>;
  /** The tokenizer, as the model info shows it: why chars/s differs between models at the same tok/s. */
  tokenizer: TokenizerInfo;
  /** generation_config.json's sampling: the tab's defaults until the user changes them. */
  generationDefaults: GenerationDefaults;
  /** Slots unloaded to make room (the GPU could not hold both). */
  evicted: string[];
  loadMs: number;
  /** Why the model was not saved to the browser cache (it still runs), e.g. quota-exceeded. */
  cacheError?: ErrorData;
  /** The cached copy was damaged (why): the model was downloaded again. */
  cacheDamaged?: string;
}

export type { GenerationDone, GenerationStats } from '../chat/engine';

export interface CachedModel {
  id: string;
  repo: string;
  revision: string;
  dtype: string;
  bytes: number;
  /** For an unfinished download (the next load continues it): its bytes so far are of this many. */
  partial?: { expectedBytes: number; live: boolean };
  /** When it was made, or (partial) when it last made progress. */
  createdAt: string;
}

export interface AdapterProbe {
  description: string;
  isFallback: boolean;
  hasShaderF16: boolean;
  maxBufferBytes: number;
  storage?: { usedBytes: number; quotaBytes?: number; persisted?: boolean };
}

export type WorkerEvent =
  | { type: 'progress'; requestId: number; progress: LoadProgressEvent }
  | { type: 'loaded'; requestId: number; info: LoadedInfo }
  /** A piece of the answer and the tokens behind it (their logprobs when the settings asked). */
  | { type: 'token'; requestId: number; text: string; tokens?: GeneratedToken[] }
  | { type: 'done'; requestId: number; result: GenerationDone }
  | { type: 'scored'; requestId: number; result: ScoredText }
  | { type: 'cache-list'; requestId: number; models: CachedModel[] }
  | { type: 'probe'; requestId: number; adapter: AdapterProbe }
  | { type: 'estimate'; requestId: number; cost: LoadCost }
  | { type: 'ok'; requestId: number }
  | { type: 'error'; requestId: number; error: ErrorData }
  /** Not an answer: the GPU device was lost; every slot must be loaded again. */
  | { type: 'device-lost'; message: string };
