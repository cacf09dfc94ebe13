/**
 * The engine as a library for any web page (`npm run build` writes it as dist/lib/engine.js):
 *
 *   import { createEngine } from './lib/engine.js';
 *   const engine = await createEngine({ model: 'ureca07/korean-vicuna-7b-1.1' });
 *   const stream = await engine.chat.completions.create({ messages, stream: true });
 *   for await (const chunk of stream) out.textContent += chunk.choices[0]?.delta.content ?? '';
 *
 * The model runs in the engine worker the app uses (it lies beside this file; a page of the
 * same origin can start it), loaded with the app's loader and OPFS cache; requests go through
 * the same OpenAI-shaped client (engine-api.ts) the app and `serve` use.
 */
import { EngineClient } from '../worker/client';
import type { LoadedInfo, LoadProgressEvent } from '../worker/protocol';
import type { ModelDtype } from '../model/weights';
import { WorkerBackend } from './backend';
import { EngineApi } from './engine-api';

export type { ChatCompletion, ChatCompletionChunk, ChatCompletionCreateParams, Completion, CompletionCreateParams, ErrorBody, Model, ModelList } from './types';
export { ApiError } from './errors';
export type { EngineApi, RequestOptions } from './engine-api';
export type { LoadedInfo, LoadProgressEvent } from '../worker/protocol';

export interface CreateEngineOptions {
  /** A hub repo, `org/name`. */
  model: string;
  /** The hub's endpoint; default https://huggingface.co. */
  hub?: string;
  /** Branch, tag or commit; default main. */
  revision?: string;
  /** A hub token, for gated or private repos. */
  token?: string;
  /** Weights on the GPU: q4 (default), f16 or f32. */
  dtype?: ModelDtype;
  /** Tokens of context (the KV cache); default 2048, at most the model's own. */
  contextLength?: number;
  /** Download, cache and compile progress while loading. */
  onProgress?: (progress: LoadProgressEvent) => void;
  /** Stops the load. */
  signal?: AbortSignal;
}

export interface Engine {
  /** The model's id in requests and answers (the repo). */
  readonly model: string;
  /** What was loaded: dtype, context, GPU bytes, whether from the cache... */
  readonly info: LoadedInfo;
  readonly chat: EngineApi['chat'];
  readonly completions: EngineApi['completions'];
  readonly models: EngineApi['models'];
  /** Frees the GPU memory and ends the worker; requests after it fail. */
  unload(): Promise<void>;
}

const DEFAULT_CONTEXT = 2048;

/** Loads `options.model` in a worker of its own and resolves once it can answer. */
export async function createEngine(options: CreateEngineOptions): Promise<Engine> {
  if (typeof options?.model !== 'string' || options.model === '') throw new TypeError('createEngine needs { model: "org/name" }');
  const worker = new Worker(new URL('../worker/engine.worker.ts', import.meta.url), { type: 'module', name: 'engine' });
  const client = new EngineClient(worker);
  const slot = options.model;
  const run = client.load(
    { slot, spec: { repo: options.model, revision: options.revision, endpoint: options.hub, token: options.token }, dtype: options.dtype ?? 'q4', contextLength: options.contextLength ?? DEFAULT_CONTEXT },
    options.onProgress,
  );
  const stop = () => void client.stop(run.requestId);
  options.signal?.addEventListener('abort', stop, { once: true });
  let info: LoadedInfo;
  try {
    info = await run.result;
  } catch (error) {
    worker.terminate();
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', stop);
  }
  let loaded = true;
  const created = Math.floor(Date.now() / 1000);
  const api = new EngineApi(new WorkerBackend(client), { models: () => (loaded ? [{ id: slot, created }] : []), modelOptional: true });
  return {
    model: slot,
    info,
    chat: api.chat,
    completions: api.completions,
    models: api.models,
    async unload() {
      if (!loaded) return;
      loaded = false;
      await client.unload(slot).catch(() => undefined);
      worker.terminate();
    },
  };
}
