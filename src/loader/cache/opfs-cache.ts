/**
 * The model cache in the browser's Origin Private File System, under `models/`. Works in a
 * dedicated worker (sync access handles: much faster for gigabytes) and on the main thread
 * (writable streams). Folders cannot be renamed everywhere (FileSystemHandle.move is not
 * universal), so an entry never moves: each writer fills its own `models/<id>.<time>-<rand>/`,
 * and that folder becomes an entry only once `manifest.json`, written last, lists the sizes its
 * files have. The newest complete folder of an id wins; older ones go at commit, open and list.
 * Deleting an entry that another tab is still reading makes that tab's reads fail with
 * `integrity-failed`, which the engine answers by rebuilding; OPFS has no way to wait for readers.
 *
 * Tested in Node against an in-memory fake of the OPFS API (fake-opfs.ts); real OPFS is covered
 * by the app's Playwright e2e.
 */

import { EngineError } from '../../errors';
import {
  cacheEntryId,
  checkEntryId,
  checkExpectedBytes,
  MANIFEST_FILE,
  MAX_MANIFEST_BYTES,
  parseManifest,
  quotaError,
  sameKey,
  splitFolderName,
  STALE_PARTIAL_MS,
  suffixTime,
  timedSuffix,
  withHeadroom,
  type CacheEntry,
  type CacheKey,
  type CacheManifest,
  type CacheStore,
  type CacheWriter,
} from './cache-store';
import {
  isNamed,
  OpfsCacheWriter,
  removeFolder,
  WHERE,
  type OpfsDirectory,
  type OpfsStorage,
} from './opfs-writer';
import { StoredFileSource } from './stored-source';

export type { OpfsDirectory, OpfsFileHandle, OpfsStorage, OpfsSyncAccessHandle, OpfsWritable } from './opfs-writer';

export interface OpfsCacheOptions {
  /** Default: `navigator.storage`; tests pass a fake. */
  storage?: OpfsStorage;
  now?: () => number;
}

const MODELS_FOLDER = 'models';

/** Asks the browser not to evict this site's storage (it may ask the user); true when granted. */
export async function requestPersistence(storage: OpfsStorage | undefined = globalThis.navigator?.storage): Promise<boolean> {
  return (await storage?.persist?.()) ?? false;
}

type Inspection =
  | { state: 'complete'; name: string; manifest: CacheManifest; files: Map<string, File>; time: number }
  | { state: 'damaged'; name: string }
  | { state: 'unfinished'; name: string; lastActive: number }
  /** A stored file the browser would not read now: neither used nor removed. */
  | { state: 'unreadable'; name: string };

type Complete = Extract<Inspection, { state: 'complete' }>;

export class OpfsCacheStore implements CacheStore {
  readonly description = `model cache in ${WHERE}`;
  private readonly storage: OpfsStorage | undefined;
  private readonly now: () => number;
  private folder: Promise<OpfsDirectory> | undefined;

  constructor(options: OpfsCacheOptions = {}) {
    this.storage = options.storage ?? globalThis.navigator?.storage;
    this.now = options.now ?? Date.now;
  }

  async list(): Promise<(CacheEntry & { bytes: number })[]> {
    const entries = [...(await this.scan()).entries()].map(([id, found]) => ({ id, manifest: found.manifest, bytes: found.manifest.totalBytes }));
    return entries.sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  async open(key: CacheKey): Promise<{ entry: CacheEntry; files: StoredFileSource } | null> {
    const id = cacheEntryId(key);
    const found = (await this.scan(id)).get(id);
    if (!found || !sameKey(found.manifest.key, key)) return null;
    const readRange = async (file: string, offset: number, length: number) => {
      try {
        // `File`s from getFile() are snapshots: a slice reads only its range, never the whole file.
        return new Uint8Array(await found.files.get(file)!.slice(offset, offset + length).arrayBuffer());
      } catch (error) {
        throw new EngineError(
          'integrity-failed',
          `cached ${file} changed or was deleted while being read (${(error as Error).name}); load the model again`,
          { file },
          { cause: error },
        );
      }
    };
    const description = `${key.repo}@${key.revision} (${key.dtype}) cached in ${WHERE}`;
    return { entry: { id, manifest: found.manifest }, files: new StoredFileSource(description, found.manifest.files, readRange) };
  }

  async create(key: CacheKey, expectedBytes: number): Promise<CacheWriter> {
    const id = cacheEntryId(key); // checks the key first
    checkExpectedBytes(expectedBytes);
    const available = await this.availableBytes();
    const needed = withHeadroom(expectedBytes);
    if (available !== undefined && needed > available) throw quotaError(key, needed, available, WHERE);
    const models = await this.models();
    const name = `${id}.${timedSuffix(this.now())}`;
    const folder = await models.getDirectoryHandle(name, { create: true });
    return new OpfsCacheWriter(key, id, this.now, {
      models,
      name,
      folder,
      expectedBytes,
      availableBytes: () => this.availableBytes(),
      afterPublish: () => this.scan(id),
    });
  }

  async delete(id: string): Promise<void> {
    checkEntryId(id);
    const models = await this.models();
    for (const found of await this.inspectAll(models, id)) {
      // A live writer's folder is not the entry; an unreadable one may be readable later.
      if (found.state === 'complete' || found.state === 'damaged') await removeFolder(models, found.name, true);
    }
  }

  async usage(): Promise<{ usedBytes: number; availableBytes?: number; quotaBytes?: number; persisted?: boolean }> {
    const usedBytes = (await this.list()).reduce((sum, entry) => sum + entry.bytes, 0);
    const estimate = await this.storage?.estimate?.();
    const persisted = await this.storage?.persisted?.();
    return {
      usedBytes,
      ...(estimate?.quota !== undefined ? { quotaBytes: estimate.quota } : {}),
      ...(estimate?.quota !== undefined && estimate.usage !== undefined ? { availableBytes: Math.max(0, estimate.quota - estimate.usage) } : {}),
      ...(persisted !== undefined ? { persisted } : {}),
    };
  }

  /** Quota left for this site, where the browser says. */
  private async availableBytes(): Promise<number | undefined> {
    const estimate = await this.storage?.estimate?.();
    return estimate?.quota !== undefined && estimate.usage !== undefined ? estimate.quota - estimate.usage : undefined;
  }

  private models(): Promise<OpfsDirectory> {
    this.folder ??= (async () => {
      if (!this.storage?.getDirectory) {
        throw new EngineError('unsupported', 'This browser has no Origin Private File System, so models cannot be cached here.');
      }
      const root = (await this.storage.getDirectory()) as OpfsDirectory;
      return root.getDirectoryHandle(MODELS_FOLDER, { create: true });
    })().catch((error: unknown) => {
      this.folder = undefined;
      if (error instanceof EngineError) throw error;
      // Firefox's private windows, for one, refuse OPFS with a SecurityError.
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new EngineError('unsupported', `This browser refused its Origin Private File System (${reason}), so models cannot be cached here.`, undefined, {
        cause: error,
      });
    });
    return this.folder;
  }

  /**
   * The newest complete folder of each id (or of `onlyId`), removing on the way older complete
   * folders, damaged ones and unfinished ones idle for over STALE_PARTIAL_MS.
   */
  private async scan(onlyId?: string): Promise<Map<string, Complete>> {
    const models = await this.models();
    const newest = new Map<string, Complete>();
    const discard: string[] = [];
    for (const found of await this.inspectAll(models, onlyId)) {
      if (found.state === 'unreadable') continue;
      if (found.state === 'damaged') discard.push(found.name);
      else if (found.state === 'unfinished') {
        if (this.now() - found.lastActive > STALE_PARTIAL_MS) discard.push(found.name);
      } else {
        const id = cacheEntryId(found.manifest.key);
        const best = newest.get(id);
        if (!best || isNewer(found, best)) {
          if (best) discard.push(best.name);
          newest.set(id, found);
        } else discard.push(found.name);
      }
    }
    for (const name of discard) await removeFolder(models, name);
    return newest;
  }

  private async inspectAll(models: OpfsDirectory, onlyId?: string): Promise<Inspection[]> {
    const found: Inspection[] = [];
    for await (const [name, handle] of models.entries()) {
      const parts = handle.kind === 'directory' ? splitFolderName(name) : null;
      const time = parts ? suffixTime(parts.suffix) : null;
      if (!parts || time === null || (onlyId !== undefined && parts.id !== onlyId)) continue; // not ours
      const inspection = await inspect(handle as OpfsDirectory, name, parts.id, time, this.now).catch((error: unknown) => {
        if (isNamed(error, 'NotFoundError')) return null; // removed by another tab meanwhile
        throw error;
      });
      if (inspection) found.push(inspection);
    }
    return found;
  }
}

function isNewer(a: Complete, b: Complete): boolean {
  if (a.manifest.createdAt !== b.manifest.createdAt) return a.manifest.createdAt > b.manifest.createdAt;
  return a.time !== b.time ? a.time > b.time : a.name > b.name;
}

async function inspect(folder: OpfsDirectory, name: string, id: string, time: number, now: () => number): Promise<Inspection> {
  const manifestFile = await folder.getFileHandle(MANIFEST_FILE).then(
    (handle) => handle.getFile(),
    (error: unknown) => {
      if (isNamed(error, 'NotFoundError')) return null;
      throw error;
    },
  );
  const manifest = manifestFile && manifestFile.size <= MAX_MANIFEST_BYTES ? parseManifest(await manifestFile.text()) : null;
  if (!manifest) {
    // No manifest yet (or one still being written): the folder's age decides.
    let lastActive = time;
    for await (const [, handle] of folder.entries()) {
      if (handle.kind !== 'file') continue;
      // A file a live writer holds locked may refuse to be read: that counts as activity.
      lastActive = Math.max(lastActive, await handle.getFile().then((file) => file.lastModified, () => now()));
    }
    return { state: 'unfinished', name, lastActive };
  }
  if (cacheEntryId(manifest.key) !== id) return { state: 'damaged', name };
  const files = new Map<string, File>();
  for (const [file, { size }] of Object.entries(manifest.files)) {
    let stored: File;
    try {
      stored = await (await folder.getFileHandle(file)).getFile();
    } catch (error) {
      if (isNamed(error, 'NotFoundError') || isNamed(error, 'TypeMismatchError')) return { state: 'damaged', name };
      return { state: 'unreadable', name };
    }
    if (stored.size !== size) return { state: 'damaged', name };
    files.set(file, stored);
  }
  return { state: 'complete', name, manifest, files, time };
}
