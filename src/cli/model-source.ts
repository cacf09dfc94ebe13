/**
 * Resolves `--model` to where its files come from: a local folder (used as is), or `org/name`
 * on the hub (endpoint from HF_ENDPOINT, token from HF_TOKEN, `--revision`) with the converted
 * weights cached under `--cache-dir` (default ~/.cache/korean-vicuna-webgpu).
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { VersionedSource } from '../chat/open-engine';
import { EngineError } from '../errors';
import type { CacheStore } from '../loader/cache/cache-store';
import { NodeCacheStore, defaultCacheDir } from '../loader/cache/node-cache';
import { hubSourceFromEnvironment } from '../loader/hub/hub-env';
import { LocalFolderSource } from '../loader/sources/local-folder';
import type { Flags } from './args';

export interface ModelLocation {
  source: VersionedSource;
  repo: string;
  revision: string;
  /** Only hub models are cached: a local folder is already on disk. */
  cache?: CacheStore;
  /** A local folder (else a hub repo). */
  folder: boolean;
  close(): Promise<void>;
}

export function cacheStore(flags: Flags): NodeCacheStore {
  return new NodeCacheStore(typeof flags['cache-dir'] === 'string' ? flags['cache-dir'] : defaultCacheDir());
}

export async function openModelLocation(flags: Flags): Promise<ModelLocation> {
  const model = flags.model;
  if (typeof model !== 'string' || model === '') throw new EngineError('bad-input', '--model is required (a folder or org/name)');
  const info = await stat(model).catch(() => null);
  if (info?.isDirectory()) {
    const source = new LocalFolderSource(model);
    return { source, repo: path.resolve(model), revision: 'local', folder: true, close: () => source.close() };
  }
  if (!/^[\w.-]+\/[\w.-]+$/.test(model)) throw new EngineError('not-found', `--model ${model}: no such folder, and not a hub repo name (org/name)`);
  const revision = typeof flags.revision === 'string' ? flags.revision : 'main';
  const source = hubSourceFromEnvironment(model, { revision });
  return { source, repo: model, revision, cache: cacheStore(flags), folder: false, close: async () => undefined };
}
