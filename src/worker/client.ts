/**
 * The UI side of the worker protocol: promise-returning calls, streamed progress and tokens
 * through callbacks, errors rebuilt as EngineError. Holds no engine logic.
 */
import type { GenerationSettings } from '../chat/engine';
import type { LoadCost } from '../chat/load-cost';
import type { ScoredText, ScoreInput } from '../chat/score';
import type { ChatMessage } from '../chat/template';
import type { GeneratedToken } from '../chat/token-text';
import { EngineError, fromErrorData } from '../errors';
import type { AdapterProbe, CachedModel, GenerationDone, LoadedInfo, LoadProgressEvent, LoadRequest, WorkerEvent, WorkerRequest } from './protocol';

/** What the client needs of a Worker (a real one, or a test double). */
export interface WorkerLike {
  postMessage(message: WorkerRequest): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<WorkerEvent>) => void): void;
  addEventListener(type: 'error', listener: (event: ErrorEvent) => void): void;
  terminate?(): void;
}

interface Pending {
  resolve(event: WorkerEvent): void;
  reject(error: EngineError): void;
  onProgress?(progress: LoadProgressEvent): void;
  onToken?(text: string, tokens: GeneratedToken[]): void;
}

export type OnToken = (text: string, tokens: GeneratedToken[]) => void;

/** A request in flight: its id (to stop it) and its outcome. */
export interface Running<T> {
  requestId: number;
  result: Promise<T>;
}

export class EngineClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly deviceLostListeners = new Set<(message: string) => void>();

  constructor(private readonly worker: WorkerLike) {
    worker.addEventListener('message', (event) => this.receive(event.data));
    worker.addEventListener('error', (event) => {
      // The worker itself failed (script error, crash): nothing pending can finish.
      const error = new EngineError('internal', `The engine worker failed: ${event.message || 'unknown error'}`);
      for (const pending of this.pending.values()) pending.reject(error);
      this.pending.clear();
    });
  }

  onDeviceLost(listener: (message: string) => void): () => void {
    this.deviceLostListeners.add(listener);
    return () => this.deviceLostListeners.delete(listener);
  }

  load(request: LoadRequest, onProgress?: (progress: LoadProgressEvent) => void): Running<LoadedInfo> {
    return this.send({ type: 'load', ...request }, { onProgress }, (event) => (event.type === 'loaded' ? event.info : undefined));
  }

  generate(slot: string, messages: ChatMessage[], settings: GenerationSettings, onToken?: OnToken): Running<GenerationDone> {
    return this.send({ type: 'generate', slot, messages, settings }, { onToken }, (event) => (event.type === 'done' ? event.result : undefined));
  }

  /** Continues a raw prompt (text or token ids) without the chat template. */
  complete(slot: string, prompt: string | number[], settings: GenerationSettings, onToken?: OnToken): Running<GenerationDone> {
    return this.send({ type: 'complete', slot, prompt, settings }, { onToken }, (event) => (event.type === 'done' ? event.result : undefined));
  }

  score(slot: string, input: ScoreInput): Running<ScoredText> {
    return this.send({ type: 'score', slot, input }, {}, (event) => (event.type === 'scored' ? event.result : undefined));
  }

  /** Asks the worker to stop request `target` (a generation or a load); its promise settles as usual. */
  stop(target: number): Promise<void> {
    return this.send({ type: 'stop', target }, {}, okEvent).result.then(() => undefined);
  }

  unload(slot: string): Promise<void> {
    return this.send({ type: 'unload', slot }, {}, okEvent).result.then(() => undefined);
  }

  /** Forgets the slot's KV cache (a new conversation). */
  reset(slot: string): Promise<void> {
    return this.send({ type: 'reset', slot }, {}, okEvent).result.then(() => undefined);
  }

  listCache(): Promise<CachedModel[]> {
    return this.send({ type: 'cache-list' }, {}, (event) => (event.type === 'cache-list' ? event.models : undefined)).result;
  }

  deleteCache(id: string): Promise<void> {
    return this.send({ type: 'cache-delete', id }, {}, okEvent).result.then(() => undefined);
  }

  /** What loading `request` would take: asked before the first download, no GPU work. */
  estimate(request: Omit<LoadRequest, 'slot'>): Promise<LoadCost> {
    return this.send({ type: 'estimate', ...request }, {}, (event) => (event.type === 'estimate' ? event.cost : undefined)).result;
  }

  probe(): Promise<AdapterProbe> {
    return this.send({ type: 'probe' }, {}, (event) => (event.type === 'probe' ? event.adapter : undefined)).result;
  }

  private send<T>(
    request: DistributiveOmit<WorkerRequest, 'requestId'>,
    callbacks: Pick<Pending, 'onProgress' | 'onToken'>,
    pick: (event: WorkerEvent) => T | undefined,
  ): Running<T> {
    const requestId = this.nextId++;
    const result = new Promise<T>((resolve, reject) => {
      this.pending.set(requestId, {
        ...callbacks,
        reject,
        resolve: (event) => {
          const value = pick(event);
          if (value === undefined) reject(new EngineError('internal', `Unexpected answer ${event.type} to ${request.type}`));
          else resolve(value);
        },
      });
    });
    this.worker.postMessage({ ...request, requestId } as WorkerRequest);
    return { requestId, result };
  }

  private receive(event: WorkerEvent): void {
    if (event.type === 'device-lost') {
      this.deviceLostListeners.forEach((listener) => listener(event.message));
      return;
    }
    const pending = this.pending.get(event.requestId);
    if (!pending) return; // an answer to a request already settled (e.g. after a worker restart)
    if (event.type === 'progress') pending.onProgress?.(event.progress);
    else if (event.type === 'token') pending.onToken?.(event.text, event.tokens ?? []);
    else {
      this.pending.delete(event.requestId);
      if (event.type === 'error') pending.reject(fromErrorData(event.error));
      else pending.resolve(event);
    }
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function okEvent(event: WorkerEvent): true | undefined {
  return event.type === 'ok' ? true : undefined;
}
