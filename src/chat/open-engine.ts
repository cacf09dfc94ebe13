/**
 * Opens a model the way users expect: from the cache when a complete, current entry exists
 * (no network needed), else from the source (hub or folder), quantising on the GPU and writing
 * each finished buffer to the cache as it goes; an interrupted load (a reload, a crash, a lost
 * network) is continued from what was saved. Used by the worker and the CLI alike.
 */
import { EngineError, isEngineError, toErrorData, type ErrorData } from '../errors';
import type { Gpu } from '../gpu/runtime';
import type { CacheKey, CacheStore, ResumedEntry } from '../loader/cache/cache-store';
import type { FileSource } from '../loader/types';
import type { LoadOptions } from '../model/llama';
import { checkpointWeights, type LoadProgress } from '../model/load-weights';
import { layoutBytes } from '../model/memory-plan';
import { hasOwnLmHead, weightLayout } from '../model/weights';
import { WEIGHTS_FILE, cachedWeights, type StoredLayout } from '../model/weights-cache';
import { entryHeader, WeightsEntry } from '../model/weights-entry';
import { ChatEngine } from './engine';
import { openRepo, readRepoFiles, type Repo } from './repo';

export type OpenPhase = 'connect' | 'download' | 'cache-read' | 'cache-write' | 'compile';

export interface OpenProgress {
  phase: OpenPhase;
  doneBytes: number;
  totalBytes: number;
  file?: string;
  /** Download only: bytes a partial cache entry already held, so the download resumed at this many. */
  resumedBytes?: number;
  /** The cached copy was damaged (why) and was thrown away: this load fetches the model again. */
  cacheDamaged?: string;
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
  /** The hub commit the weights come from, when the source says (a bench export names it). */
  commit?: string;
  /** The cached copy was damaged (why): the model was fetched again from the source. */
  cacheDamaged?: string;
}

interface CacheExtra {
  commit?: string;
  layout: StoredLayout;
}

export async function openEngine(gpu: Gpu, source: VersionedSource, options: OpenEngineOptions): Promise<OpenedEngine> {
  const { cache, signal } = options;
  const key: CacheKey = { repo: options.repo, revision: options.revision, dtype: options.dtype };
  // Once a damaged cached copy is found, every event says so: a metered connection pays for the refetch.
  let cacheDamaged: string | undefined;
  const onProgress = (progress: OpenProgress) => options.onProgress?.(cacheDamaged ? { ...progress, cacheDamaged } : progress);
  const loadOptions = { ...options, onProgress: undefined, onCompile: () => onProgress({ phase: 'compile', doneBytes: 0, totalBytes: 0 }) };

  const cached = cache ? await cache.open(key) : null;
  // Found damaged by this open or by an earlier look (a list before Load): it is gone, and said.
  if (!cached) cacheDamaged = cache?.takeDamage(key);
  const extra = cached?.entry.manifest.extra as CacheExtra | undefined;
  const check = cached && extra ? await checkCached(async () => source.currentCommit?.(signal), extra) : undefined;
  if (cached && extra && check !== 'outdated') {
    const files = cached.files as FileSource & { close?(): Promise<void> };
    try {
      const repo = await readRepoFiles(files, signal);
      const engine = await ChatEngine.fromRepo(gpu, repo, cachedWeights(files, extra.layout), {
        ...loadOptions,
        onProgress: (p) => onProgress({ phase: 'cache-read', doneBytes: p.doneBytes, totalBytes: p.totalBytes, file: WEIGHTS_FILE }),
      });
      return { engine, fromCache: true, commit: extra.commit, ...(check === 'offline' ? { offline: true } : {}) };
    } catch (error) {
      // A damaged or mismatched entry is thrown away and rebuilt from the source.
      if (!isEngineError(error, 'integrity-failed') && !isEngineError(error, 'bad-model')) throw error;
      await cache!.delete(cached.entry.id);
      cacheDamaged = error.message;
    } finally {
      await files.close?.();
    }
  }

  onProgress({ phase: 'connect', doneBytes: 0, totalBytes: 0 });
  const repo = await openRepo(source, signal);
  const downloadProgress = (p: LoadProgress) => onProgress(openProgress(p));
  const commit = source.resolvedCommit?.();
  const damaged = cacheDamaged ? { cacheDamaged } : {};
  if (!cache) {
    const engine = await ChatEngine.fromRepo(gpu, repo, checkpointWeights(repo.tensors, source), { ...loadOptions, onProgress: downloadProgress });
    return { engine, fromCache: false, commit };
  }
  return { ...(await buildEntry(gpu, cache, key, source, repo, commit, { ...loadOptions, onProgress: downloadProgress })), commit, ...damaged };
}

/**
 * Loads from the source while writing the cache entry buffer by buffer, continuing a partial
 * entry an earlier load left (weights-entry.ts). The model runs even when caching fails: the
 * reason comes back as `cacheError`.
 */
async function buildEntry(
  gpu: Gpu,
  cache: CacheStore,
  key: CacheKey,
  source: VersionedSource,
  repo: Repo,
  commit: string | undefined,
  options: LoadOptions,
): Promise<OpenedEngine> {
  const { signal } = options;
  const hasLmHead = hasOwnLmHead(repo.tensors);
  const layout = weightLayout(repo.config, options.dtype, hasLmHead, options.lmHeadFormat, options.embedFormat);
  const smallFiles = repoSmallFiles(repo);
  const expectedBytes = layoutBytes(layout) + [...smallFiles.values()].reduce((sum, bytes) => sum + bytes.byteLength, 0);
  const sources: Record<string, { etag?: string; size: number }> = {};
  for (const file of new Set(repo.tensors.map((t) => t.file))) {
    const size = await source.size(file, signal);
    if (size === null) throw new EngineError('integrity-failed', `${file} vanished while loading`);
    sources[file] = { etag: source.etag?.(file), size };
  }
  const header = entryHeader(layout, hasLmHead, { commit, files: Object.fromEntries(Object.entries(sources).map(([file, { size }]) => [file, size])) });

  for (let attempt = 0; ; attempt++) {
    let started: ResumedEntry;
    let entry: WeightsEntry;
    try {
      started = await cache.resume(key, expectedBytes, header);
    } catch (error) {
      if (isCancel(error)) throw error;
      // No room, or no usable storage: the model still runs, uncached.
      const engine = await ChatEngine.fromRepo(gpu, repo, checkpointWeights(repo.tensors, source), options);
      return { engine, fromCache: false, cacheError: toErrorData(error) };
    }
    try {
      entry = new WeightsEntry(gpu, started.writer, layout, started.records);
    } catch (error) {
      await started.writer.abort(); // a partial that does not fit its own header: start again
      if (attempt > 0) throw error;
      continue;
    }
    let engine: ChatEngine;
    try {
      engine = await ChatEngine.fromRepo(gpu, repo, entry.weights(repo.tensors, source), options);
    } catch (error) {
      // What was saved stays for the next load, unless the partial entry itself is damaged.
      const damaged = isEngineError(error, 'integrity-failed') && error.detail?.partialEntry === true;
      await (damaged ? started.writer.abort() : started.writer.suspend()).catch(() => undefined);
      if (damaged && attempt === 0) continue;
      throw error;
    }
    try {
      const stored = entry.complete(hasLmHead);
      for (const [name, bytes] of smallFiles) await started.writer.append(name, bytes);
      const extra: CacheExtra = { commit, layout: stored };
      await started.writer.commit({ key, sources, extra });
      return { engine, fromCache: false };
    } catch (error) {
      await started.writer.suspend().catch(() => undefined);
      if (isCancel(error)) {
        engine.dispose();
        throw error;
      }
      // The model runs either way; the user is told why it was not saved.
      return { engine, fromCache: false, cacheError: toErrorData(error) };
    }
  }
}

/** A weight-loading event as the phase users see: restoring a partial entry, downloading, or saving. */
function openProgress(p: LoadProgress): OpenProgress {
  const { doneBytes, totalBytes } = p;
  if (p.stage === 'restore') return { phase: 'cache-read', doneBytes, totalBytes, file: WEIGHTS_FILE };
  if (p.stage === 'save') return { phase: 'cache-write', doneBytes, totalBytes, file: WEIGHTS_FILE };
  return { phase: 'download', doneBytes, totalBytes, file: p.tensor, ...(p.resumedBytes ? { resumedBytes: p.resumedBytes } : {}) };
}

function isCancel(error: unknown): boolean {
  return isEngineError(error, 'cancelled') || (error instanceof DOMException && error.name === 'AbortError');
}

/** config.json and the tokenizer files, stored beside the weights so that the entry loads offline. */
function repoSmallFiles(repo: Repo): Map<string, Uint8Array> {
  const encoder = new TextEncoder();
  const files = new Map<string, Uint8Array>([['config.json', encoder.encode(repo.configText)]]);
  for (const [name, content] of repo.tokenizerFiles) files.set(name, typeof content === 'string' ? encoder.encode(content) : content);
  return files;
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
