/**
 * Opens a model the way users expect: from the cache when a complete, current entry exists
 * (no network needed), else from the source (hub or folder), quantising on the GPU and then
 * writing the result to the cache for next time. Used by the worker and the CLI alike.
 */
import { EngineError, isEngineError, toErrorData, type ErrorData } from '../errors';
import type { Gpu } from '../gpu/runtime';
import type { CacheKey, CacheStore } from '../loader/cache/cache-store';
import type { FileSource } from '../loader/types';
import type { LoadOptions } from '../model/llama';
import { checkpointWeights } from '../model/load-weights';
import { WEIGHTS_FILE, cachedWeights, saveWeights, type StoredLayout } from '../model/weights-cache';
import { ChatEngine } from './engine';
import { openRepo, readRepoFiles, type Repo } from './repo';

export type OpenPhase = 'connect' | 'download' | 'cache-read' | 'cache-write' | 'compile';

export interface OpenProgress {
  phase: OpenPhase;
  doneBytes: number;
  totalBytes: number;
  file?: string;
}

/** A source that can say which snapshot it serves (the hub does; a folder does not). */
export interface VersionedSource extends FileSource {
  resolvedCommit?(): string | undefined;
  /** The commit the revision points at now, asked once and quickly; a cached copy is used when this fails (offline) or matches. */
  currentCommit?(signal?: AbortSignal): Promise<string | undefined>;
  etag?(file: string): string | undefined;
}

export interface OpenEngineOptions extends Omit<LoadOptions, 'onProgress'> {
  /** Identity of the source for the cache key. */
  repo: string;
  revision: string;
  cache?: CacheStore;
  onProgress?: (progress: OpenProgress) => void;
}

export interface OpenedEngine {
  engine: ChatEngine;
  fromCache: boolean;
  /** From the cache without knowing whether it is current: the hub could not be reached (offline). */
  offline?: boolean;
  /** Why the model could not be cached (it still runs), e.g. quota-exceeded. */
  cacheError?: ErrorData;
}

interface CacheExtra {
  commit?: string;
  layout: StoredLayout;
}

export async function openEngine(gpu: Gpu, source: VersionedSource, options: OpenEngineOptions): Promise<OpenedEngine> {
  const { cache, onProgress, signal } = options;
  const key: CacheKey = { repo: options.repo, revision: options.revision, dtype: options.dtype };
  const loadOptions = { ...options, onProgress: undefined, onCompile: () => onProgress?.({ phase: 'compile', doneBytes: 0, totalBytes: 0 }) };

  const cached = cache ? await cache.open(key) : null;
  const extra = cached?.entry.manifest.extra as CacheExtra | undefined;
  const check = cached && extra ? await checkCached(async () => source.currentCommit?.(signal), extra) : undefined;
  if (cached && extra && check !== 'outdated') {
    const files = cached.files as FileSource & { close?(): Promise<void> };
    try {
      const repo = await readRepoFiles(files, signal);
      const engine = await ChatEngine.fromRepo(gpu, repo, cachedWeights(files, extra.layout), {
        ...loadOptions,
        onProgress: (p) => onProgress?.({ phase: 'cache-read', doneBytes: p.doneBytes, totalBytes: p.totalBytes, file: WEIGHTS_FILE }),
      });
      return { engine, fromCache: true, ...(check === 'offline' ? { offline: true } : {}) };
    } catch (error) {
      // A damaged or mismatched entry is thrown away and rebuilt from the source.
      if (!isEngineError(error, 'integrity-failed') && !isEngineError(error, 'bad-model')) throw error;
      await cache!.delete(cached.entry.id);
    } finally {
      await files.close?.();
    }
  }

  onProgress?.({ phase: 'connect', doneBytes: 0, totalBytes: 0 });
  const repo = await openRepo(source, signal);
  const weights = checkpointWeights(repo.tensors, source);
  const engine = await ChatEngine.fromRepo(gpu, repo, weights, {
    ...loadOptions,
    onProgress: (p) => onProgress?.({ phase: 'download', doneBytes: p.doneBytes, totalBytes: p.totalBytes, file: p.tensor }),
  });
  if (!cache) return { engine, fromCache: false };
  try {
    await writeCache(gpu, cache, key, source, repo, engine, weights.hasLmHead, onProgress, signal);
    return { engine, fromCache: false };
  } catch (error) {
    if (isEngineError(error, 'cancelled') || (error instanceof DOMException && error.name === 'AbortError')) {
      engine.dispose();
      throw error;
    }
    // The model runs either way; the user is told why it was not saved.
    return { engine, fromCache: false, cacheError: toErrorData(error) };
  }
}

/**
 * A cached entry is used unless the source can be reached and serves another commit:
 * 'offline' when the source could not be reached (no network, no answer), so nobody knows.
 */
async function checkCached(currentCommit: () => Promise<string | undefined>, extra: CacheExtra): Promise<'current' | 'outdated' | 'offline'> {
  if (!extra.commit) return 'current';
  let commit: string | undefined;
  try {
    commit = await currentCommit();
  } catch (error) {
    if (isEngineError(error, 'cancelled')) throw error;
    // Unreachable, or refused (a token that expired): the cached copy is what we have.
    return isEngineError(error, 'download-failed') ? 'offline' : 'current';
  }
  return commit === undefined || commit === extra.commit ? 'current' : 'outdated';
}

async function writeCache(
  gpu: Gpu,
  cache: CacheStore,
  key: CacheKey,
  source: VersionedSource,
  repo: Repo,
  engine: ChatEngine,
  hasLmHead: boolean,
  onProgress: OpenEngineOptions['onProgress'],
  signal?: AbortSignal,
): Promise<void> {
  const encoder = new TextEncoder();
  const smallFiles = new Map<string, Uint8Array>([['config.json', encoder.encode(repo.configText)]]);
  for (const [name, content] of repo.tokenizerFiles) smallFiles.set(name, typeof content === 'string' ? encoder.encode(content) : content);
  const smallBytes = [...smallFiles.values()].reduce((sum, bytes) => sum + bytes.byteLength, 0);
  const writer = await cache.create(key, engine.model.plan.weightBytes + smallBytes);
  try {
    for (const [name, bytes] of smallFiles) await writer.append(name, bytes);
    const layout = await saveWeights(
      gpu,
      engine.model.layout,
      engine.model.weights,
      hasLmHead,
      async (bytes) => {
        signal?.throwIfAborted();
        await writer.append(WEIGHTS_FILE, bytes);
      },
      (doneBytes, totalBytes) => onProgress?.({ phase: 'cache-write', doneBytes, totalBytes, file: WEIGHTS_FILE }),
    );
    const sources: Record<string, { etag?: string; size: number }> = {};
    for (const file of new Set(repo.tensors.map((t) => t.file))) {
      const size = await source.size(file, signal);
      if (size === null) throw new EngineError('integrity-failed', `${file} vanished while caching`);
      sources[file] = { etag: source.etag?.(file), size };
    }
    const extra: CacheExtra = { commit: source.resolvedCommit?.(), layout };
    await writer.commit({ key, sources, extra });
  } catch (error) {
    await writer.abort();
    throw error;
  }
}
