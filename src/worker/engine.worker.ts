/**
 * The engine's Web Worker: owns the GPU device, the loaded models (one per slot) and the OPFS
 * cache, and answers the protocol in protocol.ts. Nothing here touches the DOM.
 */
/// <reference lib="webworker" />
import { estimateLoadCost } from '../chat/load-cost';
import { openEngine, type OpenProgress } from '../chat/open-engine';
import { generationDone, type ChatEngine } from '../chat/engine';
import { scoreInput } from '../chat/score';
import type { GeneratedToken } from '../chat/token-text';
import { EngineError, toErrorData } from '../errors';
import { requestBrowserAdapter } from '../gpu/device';
import { createGpu, type Gpu } from '../gpu/runtime';
import { OpfsCacheStore } from '../loader/cache/opfs-cache';
import { HubSource } from '../loader/hub/hub-source';
import { DownloadProgress } from '../loader/hub/progress';
import { tensorFormats } from '../model/weights';
import type { CachedModel, LoadRequest, WorkerEvent, WorkerRequest } from './protocol';

declare const self: DedicatedWorkerGlobalScope;

interface Slot {
  engine: ChatEngine;
  request: LoadRequest;
  busy: boolean;
  commit?: string;
}

const slots = new Map<string, Slot>();
const running = new Map<number, AbortController>();
let gpuPromise: Promise<Gpu> | undefined;
const cache = new OpfsCacheStore();

function post(event: WorkerEvent): void {
  self.postMessage(event);
}

function gpu(): Promise<Gpu> {
  gpuPromise ??= (async () => {
    const created = await createGpu(await requestBrowserAdapter(), 'chat');
    void created.context.lost.then((info) => {
      if (info.reason === 'destroyed') return;
      // Every buffer died with the device: forget the models; the UI reloads them (from cache).
      for (const slot of slots.values()) slot.engine.dispose();
      slots.clear();
      gpuPromise = undefined;
      post({ type: 'device-lost', message: info.message || 'The GPU device was lost' });
    });
    return created;
  })();
  gpuPromise.catch(() => (gpuPromise = undefined));
  return gpuPromise;
}

function sameModel(a: LoadRequest, b: LoadRequest): boolean {
  return a.spec.repo === b.spec.repo && (a.spec.revision ?? 'main') === (b.spec.revision ?? 'main') && a.spec.endpoint === b.spec.endpoint && a.dtype === b.dtype && a.contextLength === b.contextLength;
}

async function load(requestId: number, request: LoadRequest, signal: AbortSignal): Promise<void> {
  const started = performance.now();
  const existing = slots.get(request.slot);
  if (existing && sameModel(existing.request, request)) {
    post({ type: 'loaded', requestId, info: { ...info(existing, false), evicted: [], loadMs: 0 } });
    return;
  }
  existing?.engine.dispose();
  slots.delete(request.slot);

  const device = await gpu();
  const evicted: string[] = [];
  // Rates and ETA per phase: bytes downloaded, read from the cache or written to it.
  const downloads = new DownloadProgress();
  const progress = (p: OpenProgress) => {
    // What a resumed download starts with was not fetched now: it must not count as speed.
    if (p.resumedBytes !== undefined && !downloads.has(p.phase)) downloads.resumeAt(p.phase, p.resumedBytes, p.totalBytes);
    downloads.update({ file: p.phase, doneBytes: p.doneBytes, totalBytes: p.totalBytes });
    const rate = downloads.snapshot();
    post({
      type: 'progress',
      requestId,
      progress: { phase: p.phase, file: p.file, doneBytes: p.doneBytes, totalBytes: p.totalBytes, resumedBytes: p.resumedBytes, bytesPerSecond: rate.bytesPerSecond, etaSeconds: rate.etaSeconds, cacheDamaged: p.cacheDamaged },
    });
  };
  const open = () =>
    openEngine(device, new HubSource(request.spec), {
      repo: request.spec.repo,
      revision: request.spec.revision ?? 'main',
      dtype: request.dtype,
      contextLength: request.contextLength,
      cache,
      signal,
      onProgress: progress,
    });
  let opened;
  try {
    opened = await open();
  } catch (error) {
    // Two 7B models may not fit one GPU: free every idle one and retry.
    const idle = [...slots.entries()].filter(([, s]) => !s.busy);
    if (!(error instanceof EngineError && error.code === 'out-of-memory') || idle.length === 0) throw error;
    for (const [name, slot] of idle) {
      slot.engine.dispose();
      slots.delete(name);
      evicted.push(name);
    }
    opened = await open();
  }
  const slot: Slot = { engine: opened.engine, request, busy: false, commit: opened.commit };
  slots.set(request.slot, slot);
  post({ type: 'loaded', requestId, info: { ...info(slot, opened.fromCache), evicted, loadMs: performance.now() - started, ...(opened.offline ? { offline: true } : {}), ...(opened.cacheError ? { cacheError: opened.cacheError } : {}), ...(opened.cacheDamaged ? { cacheDamaged: opened.cacheDamaged } : {}) } });
}

function info(slot: Slot, fromCache: boolean) {
  const { model, repo } = slot.engine;
  const tokenizer = { kind: repo.tokenizer.kind, vocabSize: repo.tokenizer.vocabSize, tokensPerSyllable: slot.engine.tokensPerSyllable, chatTemplate: repo.chatTemplate !== undefined };
  return {
    slot: slot.request.slot,
    repo: slot.request.spec.repo,
    commit: slot.commit,
    dtype: model.dtype,
    contextLength: model.shape.contextLength,
    fromCache,
    gpuBytes: model.plan.totalBytes,
    tensorFormats: tensorFormats(model.layout),
    tokenizer,
    generationDefaults: repo.generationDefaults,
  };
}

function slotOf(name: string): Slot {
  const slot = slots.get(name);
  if (!slot) throw new EngineError('bad-input', `No model is loaded in ${name}: load it first`);
  return slot;
}

async function handle(request: WorkerRequest): Promise<void> {
  const { requestId } = request;
  switch (request.type) {
    case 'load': {
      const controller = new AbortController();
      running.set(requestId, controller);
      try {
        await load(requestId, request, controller.signal);
      } finally {
        running.delete(requestId);
      }
      return;
    }
    case 'generate':
    case 'complete': {
      const slot = slotOf(request.slot);
      if (slot.busy) throw new EngineError('bad-input', 'This model is still answering: stop it first');
      const controller = new AbortController();
      running.set(requestId, controller);
      slot.busy = true;
      try {
        const callbacks = { signal: controller.signal, onText: (text: string, tokens: GeneratedToken[]) => post({ type: 'token', requestId, text, tokens }) };
        const result =
          request.type === 'generate' ? await slot.engine.chat(request.messages, request.settings, callbacks) : await slot.engine.complete(request.prompt, request.settings, callbacks);
        post({ type: 'done', requestId, result: generationDone(result, slot.engine.session.contextLength) });
      } finally {
        slot.busy = false;
        running.delete(requestId);
      }
      return;
    }
    case 'stop':
      running.get(request.target)?.abort(new EngineError('cancelled', 'Stopped'));
      post({ type: 'ok', requestId });
      return;
    case 'unload':
      slots.get(request.slot)?.engine.dispose();
      slots.delete(request.slot);
      post({ type: 'ok', requestId });
      return;
    case 'reset':
      slots.get(request.slot)?.engine.session.reset();
      post({ type: 'ok', requestId });
      return;
    case 'score': {
      // Scoring runs the model over its KV cache: never beside a generation on the same slot.
      const slot = slotOf(request.slot);
      if (slot.busy) throw new EngineError('bad-input', 'This model is still answering: stop it first');
      slot.busy = true;
      try {
        post({ type: 'scored', requestId, result: await scoreInput(slot.engine, request.input) });
      } finally {
        slot.busy = false;
      }
      return;
    }
    case 'cache-list': {
      const entries = await cache.list();
      const models: CachedModel[] = entries.map((e) => ({ id: e.id, ...e.manifest.key, bytes: e.bytes, createdAt: e.manifest.createdAt }));
      for (const p of await cache.partials()) models.push({ id: p.id, ...p.key, bytes: p.bytes, partial: { expectedBytes: p.expectedBytes, live: p.live }, createdAt: p.updatedAt });
      post({ type: 'cache-list', requestId, models });
      return;
    }
    case 'cache-delete':
      await cache.delete(request.id);
      post({ type: 'ok', requestId });
      return;
    case 'estimate': {
      const { spec, dtype, contextLength } = request;
      const cost = await estimateLoadCost(new HubSource({ ...spec, retries: 1 }), { dtype, contextLength: contextLength ?? 2048, cache });
      post({ type: 'estimate', requestId, cost });
      return;
    }
    case 'probe': {
      const { context } = await gpu();
      const storage = await cache.usage();
      post({
        type: 'probe',
        requestId,
        adapter: { description: context.adapter.description, isFallback: context.adapter.isFallback, hasShaderF16: context.hasShaderF16, maxBufferBytes: context.limits.maxBufferSize, storage },
      });
      return;
    }
  }
}

self.addEventListener('message', (event: MessageEvent<WorkerRequest>) => {
  handle(event.data).catch((error: unknown) => {
    const cause = error instanceof DOMException && error.name === 'AbortError' ? new EngineError('cancelled', 'Stopped') : error;
    post({ type: 'error', requestId: event.data.requestId, error: toErrorData(cause) });
  });
});
