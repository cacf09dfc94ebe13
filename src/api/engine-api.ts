/**
 * The OpenAI-shaped engine client: what the app, the library (dist/lib/engine.js) and `serve`
 * share. `chat.completions.create` and `completions.create` take OpenAI's request objects and
 * answer with OpenAI's objects, or, with `stream: true`, an async iterable of its chunks.
 * Requests to one model wait their turn in its queue (queue.ts); the app asks through
 * `generate`, the same queue and backend without the OpenAI wrapping.
 */
import type { GenerationDone, GenerationSettings } from '../chat/engine';
import type { EngineBackend, GenerateCall } from './backend';
import { abortError, ApiError, invalidRequest, modelNotFound, toApiError } from './errors';
import { ModelQueue } from './queue';
import { Answer } from './responses';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionCreateParams, Completion, CompletionCreateParams, Model, ModelList } from './types';
import { parseChatRequest, parseCompletionRequest, type ApiRequest, type GenerationInput } from './validate';

export interface ServedModel {
  id: string;
  /** Unix seconds when it was loaded. */
  created: number;
}

export interface EngineApiOptions {
  /** The models requests may name. */
  models(): ServedModel[];
  /** Requests that may wait per model behind the one answering; more get a 429. Default: no bound. */
  maxQueue?: number;
  /** A request without `model` goes to the only model; without this option `model` is required. */
  modelOptional?: boolean;
}

export interface RequestOptions {
  /** Aborting stops the answer at once: the promise, or the stream's iteration, rejects with an AbortError. */
  signal?: AbortSignal;
}

/** An async iterable of chunks; breaking out of the loop stops the answer too. */
export type ChunkStream<T> = AsyncIterable<T>;

export class EngineApi {
  private readonly queues = new Map<string, ModelQueue>();

  readonly chat = {
    completions: {
      create: ((request: ChatCompletionCreateParams, options?: RequestOptions) => this.create(() => parseChatRequest(request), options)) as {
        (request: ChatCompletionCreateParams & { stream: true }, options?: RequestOptions): Promise<ChunkStream<ChatCompletionChunk>>;
        (request: ChatCompletionCreateParams & { stream?: false | null }, options?: RequestOptions): Promise<ChatCompletion>;
        (request: ChatCompletionCreateParams, options?: RequestOptions): Promise<ChatCompletion | ChunkStream<ChatCompletionChunk>>;
      },
    },
  };

  readonly completions = {
    create: ((request: CompletionCreateParams, options?: RequestOptions) => this.create(() => parseCompletionRequest(request), options)) as {
      (request: CompletionCreateParams & { stream: true }, options?: RequestOptions): Promise<ChunkStream<Completion>>;
      (request: CompletionCreateParams & { stream?: false | null }, options?: RequestOptions): Promise<Completion>;
      (request: CompletionCreateParams, options?: RequestOptions): Promise<Completion | ChunkStream<Completion>>;
    },
  };

  readonly models = {
    list: async (): Promise<ModelList> => ({ object: 'list', data: this.options.models().map(modelObject) }),
    retrieve: async (id: string): Promise<Model> => {
      const found = this.options.models().find((model) => model.id === id);
      if (!found) throw modelNotFound(id);
      return modelObject(found);
    },
  };

  constructor(
    readonly backend: EngineBackend,
    private readonly options: EngineApiOptions,
  ) {}

  /** Whether `model` is answering and how many requests wait for it. */
  queueState(model: string): { busy: boolean; queued: number } {
    return this.queue(model).state;
  }

  /** Resolves once no request runs or waits for any model. */
  async idle(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.idle()));
  }

  /**
   * One answer in the engine's own terms (the app: its stats, ids and a Stop that keeps what was
   * written, finishReason 'cancelled'), in the model's queue like every API request. Rejects with
   * an AbortError only when aborted while still waiting.
   */
  generate(model: string, input: GenerationInput, settings: GenerationSettings, call: GenerateCall = {}): Promise<GenerationDone> {
    return this.queue(model).run(() => this.backend.generate(model, input, settings, call), call.signal);
  }

  private queue(model: string): ModelQueue {
    let queue = this.queues.get(model);
    if (!queue) {
      queue = new ModelQueue(model, this.options.maxQueue);
      this.queues.set(model, queue);
    }
    return queue;
  }

  /** The model a request names, checked against those loaded. */
  private resolveModel(request: ApiRequest): string {
    const models = this.options.models();
    if (models.length === 0) throw new ApiError(404, 'No model is loaded here (the engine was unloaded).', 'invalid_request_error', 'model', 'model_not_found');
    if (request.model === undefined) {
      if (this.options.modelOptional && models.length === 1) return models[0].id;
      throw invalidRequest(`'model' is required: one of ${models.map((m) => m.id).join(', ')}.`, 'model', 'missing_required_parameter');
    }
    if (!models.some((m) => m.id === request.model)) throw modelNotFound(request.model);
    return request.model;
  }

  private async create(parse: () => ApiRequest, options: RequestOptions = {}): Promise<ChatCompletion | Completion | ChunkStream<ChatCompletionChunk | Completion>> {
    const request = parse();
    const model = this.resolveModel(request);
    if ('prompt' in request.input && request.echo) {
      if (typeof request.input.prompt !== 'string') throw invalidRequest(`'echo' needs a text prompt on this engine.`, 'echo', 'unsupported_value');
      if (request.settings.logprobs) throw invalidRequest(`'echo' with 'logprobs' is not supported: this engine scores generated tokens only.`, 'echo', 'unsupported_value');
    }
    if (options.signal?.aborted) throw abortError();
    this.queue(model).checkRoom();
    const answer = new Answer(request, model);
    const inputField = request.endpoint === 'chat' ? 'messages' : 'prompt';
    if (!request.stream) {
      const done = await this.generate(model, request.input, request.settings, { signal: options.signal, onText: (text, tokens) => answer.piece(text, tokens) }).catch((error: unknown) => {
        throw toApiErrorOrAbort(error, inputField);
      });
      if (done.finishReason === 'cancelled') throw abortError();
      return answer.complete(done);
    }
    return this.stream(model, request, answer, inputField, options.signal);
  }

  /** Starts the generation now; its chunks wait in a channel until the caller reads them. */
  private stream(model: string, request: ApiRequest, answer: Answer, inputField: string, signal?: AbortSignal): ChunkStream<ChatCompletionChunk | Completion> {
    const channel = new Channel<ChatCompletionChunk | Completion>();
    const stop = new AbortController();
    const forward = () => stop.abort();
    signal?.addEventListener('abort', forward, { once: true });
    channel.push(...answer.opening());
    this.generate(model, request.input, request.settings, { signal: stop.signal, onText: (text, tokens) => channel.push(...answer.piece(text, tokens)) })
      .then((done) => {
        if (done.finishReason === 'cancelled') channel.fail(abortError());
        else channel.push(...answer.end(done));
        channel.close();
      })
      .catch((error: unknown) => channel.fail(toApiErrorOrAbort(error, inputField)))
      .finally(() => signal?.removeEventListener('abort', forward));
    return {
      [Symbol.asyncIterator]: () => channel.iterate(() => stop.abort()),
    };
  }
}

function toApiErrorOrAbort(error: unknown, inputField: string): unknown {
  return error instanceof DOMException && error.name === 'AbortError' ? error : toApiError(error, inputField);
}

function modelObject(model: ServedModel): Model {
  return { id: model.id, object: 'model', created: model.created, owned_by: 'local' };
}

/** Chunks pushed by the generation, pulled by the reader; nothing is dropped or reordered. */
class Channel<T> {
  private readonly items: T[] = [];
  private closed = false;
  private error: unknown;
  private failed = false;
  private wake: (() => void) | undefined;

  push(...items: T[]): void {
    if (this.closed || items.length === 0) return;
    this.items.push(...items);
    this.notify();
  }

  close(): void {
    this.closed = true;
    this.notify();
  }

  fail(error: unknown): void {
    if (this.closed) return;
    this.failed = true;
    this.error = error;
    this.close();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** `onReturn`: the reader stopped early (break, or an exception in its loop). */
  iterate(onReturn: () => void): AsyncIterator<T> {
    let finished = false;
    return {
      next: async (): Promise<IteratorResult<T>> => {
        for (;;) {
          if (this.items.length > 0) return { value: this.items.shift()!, done: false };
          if (this.failed) {
            finished = true;
            throw this.error;
          }
          if (this.closed) {
            finished = true;
            return { value: undefined, done: true };
          }
          await new Promise<void>((resolve) => (this.wake = resolve));
        }
      },
      return: async (): Promise<IteratorResult<T>> => {
        if (!finished && !this.closed) onReturn();
        finished = true;
        return { value: undefined, done: true };
      },
    };
  }
}

export { ApiError };
