/**
 * Test support for the UI's controllers: a scripted stand-in for the engine worker (no GPU, no
 * DOM) and an in-memory stand-in for IndexedDB.
 */
import type { GenerationSettings } from '../../chat/engine';
import type { GenerationDefaults } from '../../chat/generation-config';
import type { ScoreInput } from '../../chat/score';
import type { ChatMessage } from '../../chat/template';
import type { WorkerLike } from '../../worker/client';
import type { WorkerEvent, WorkerRequest } from '../../worker/protocol';
import type { KeyValueStore } from '../conversations/threads';

/** A worker whose GPU holds `capacity` models; loads take `loadTicks` timer turns; answers echo. */
export class FakeWorker implements WorkerLike {
  readonly generated: { slot: string; messages: ChatMessage[] }[] = [];
  readonly loads: string[] = [];
  readonly resets: string[] = [];
  readonly scored: { slot: string; input: ScoreInput }[] = [];
  /** generation_config.json's sampling per repo, as a load reports it. */
  readonly generationDefaults: Record<string, GenerationDefaults> = {};
  /** The settings each generate was sent with. */
  readonly settings: GenerationSettings[] = [];
  private readonly resident: string[] = [];
  private readonly listeners: ((event: MessageEvent<WorkerEvent>) => void)[] = [];
  private readonly stopped = new Set<number>();

  constructor(
    private readonly capacity: number,
    private readonly loadTicks = 1,
  ) {}

  addEventListener(type: 'message' | 'error', listener: (event: never) => void): void {
    if (type === 'message') this.listeners.push(listener as (event: MessageEvent<WorkerEvent>) => void);
  }

  emit(event: WorkerEvent): void {
    this.listeners.forEach((listener) => listener({ data: event } as MessageEvent<WorkerEvent>));
  }

  loseDevice(): void {
    this.resident.length = 0;
    this.emit({ type: 'device-lost', message: 'lost' });
  }

  /** Asynchronous, as a real worker's messages are. */
  postMessage(request: WorkerRequest): void {
    setTimeout(() => void this.handle(request), 0);
  }

  private async handle(request: WorkerRequest): Promise<void> {
    const { requestId } = request;
    const tick = () => new Promise((resolve) => setTimeout(resolve, 1));
    if (request.type === 'stop') {
      this.stopped.add(request.target);
      this.emit({ type: 'ok', requestId });
    } else if (request.type === 'load') {
      this.loads.push(request.slot);
      for (let i = 0; i < this.loadTicks; i++) {
        this.emit({ type: 'progress', requestId, progress: { phase: 'download', doneBytes: i, totalBytes: this.loadTicks } });
        await tick();
        if (this.stopped.has(requestId)) return this.emit({ type: 'error', requestId, error: { code: 'cancelled', message: 'Stopped' } });
      }
      const evicted = this.resident.includes(request.slot) || this.resident.length < this.capacity ? [] : this.resident.splice(0);
      if (!this.resident.includes(request.slot)) this.resident.push(request.slot);
      const info = {
        slot: request.slot,
        repo: request.spec.repo,
        dtype: request.dtype,
        contextLength: 512,
        fromCache: false,
        gpuBytes: 1,
        tensorFormats: { q4: 12, f16: 4 },
        tokenizer: { kind: 'sentencepiece' as const, vocabSize: 32000, tokensPerSyllable: 2.5, chatTemplate: false },
        generationDefaults: this.generationDefaults[request.spec.repo] ?? {},
        evicted,
        loadMs: 1,
      };
      this.emit({ type: 'loaded', requestId, info });
    } else if (request.type === 'generate') {
      if (!this.resident.includes(request.slot)) return this.emit({ type: 'error', requestId, error: { code: 'bad-input', message: `No model is loaded in ${request.slot}` } });
      this.generated.push({ slot: request.slot, messages: request.messages });
      this.settings.push(request.settings);
      let text = '';
      for (const piece of [request.slot, ':', request.messages.at(-1)!.content]) {
        await tick();
        if (this.stopped.has(requestId)) break;
        text += piece;
        this.emit({ type: 'token', requestId, text: piece });
      }
      const stats = { promptTokens: 3, prefilledTokens: 3, newTokens: 3, prefillTokensPerSecond: 1, decodeTokensPerSecond: 1, contextLength: 512, droppedTurns: 0 };
      this.emit({ type: 'done', requestId, result: { ids: [1, 2, 3], text, finishReason: this.stopped.has(requestId) ? 'cancelled' : 'eos', stats } });
    } else if (request.type === 'score') {
      if (!this.resident.includes(request.slot)) return this.emit({ type: 'error', requestId, error: { code: 'bad-input', message: `No model is loaded in ${request.slot}` } });
      this.scored.push({ slot: request.slot, input: request.input });
      await tick();
      const token = { id: 7, piece: '▁a', logprob: -1, top: [{ id: 7, piece: '▁a', logprob: -1 }] };
      this.emit({ type: 'scored', requestId, result: { tokens: 1, contextTokens: 1, perplexity: Math.E, spans: [{ text: 'a', tokens: [token] }] } });
    } else {
      if (request.type === 'reset') this.resets.push(request.slot);
      this.emit({ type: 'ok', requestId });
    }
  }
}

/**
 * The KeyValueStore over a Map, with values copied in and out as IndexedDB's structured clone
 * does, and a count of reads so tests can see what a list costs.
 */
export class MemoryStore implements KeyValueStore {
  readonly saved = new Map<string, unknown>();
  /** Records read, one per key (get, each key of getMany, update). */
  reads = 0;

  async get<T>(key: string): Promise<T | undefined> {
    this.reads++;
    return structuredClone(this.saved.get(key)) as T | undefined;
  }

  async getMany<T>(keys: string[]): Promise<(T | undefined)[]> {
    return Promise.all(keys.map((key) => this.get<T>(key)));
  }

  async set(key: string, value: unknown): Promise<void> {
    this.saved.set(key, structuredClone(value));
  }

  async del(key: string): Promise<void> {
    this.saved.delete(key);
  }

  async keys(): Promise<IDBValidKey[]> {
    return [...this.saved.keys()];
  }

  async update<T>(key: string, updater: (old: T | undefined) => T): Promise<void> {
    await this.set(key, updater(await this.get<T>(key)));
  }
}

export function memoryStorage(): { saved: Map<string, unknown>; storage: MemoryStore } {
  const storage = new MemoryStore();
  return { saved: storage.saved, storage };
}
