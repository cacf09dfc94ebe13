/**
 * The model cache in a folder on disk (Node only: the CLI and the Dawn tests; the browser bundle
 * never imports this file). Under the root:
 *   <id>/                       a complete entry: its stored files and manifest.json
 *   <id>.partial-<time>-<rand>/ a writer at work; <time> (base36 ms) dates it for other processes
 *   <id>.old-<time>-<rand>/     an entry being replaced or deleted
 * A writer fills its partial folder, writes the manifest, then renames the folder to <id>/.
 * Rename is atomic, so a reader sees a whole entry or none, even across a crash.
 */

import { mkdir, open, readdir, readFile, rm, stat, statfs, type FileHandle } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
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
import { errorCode, isMissing } from '../node-fs';
import { fsError, NodeCacheWriter, renameIfPresent, type WritableFile } from './node-cache-writer';
import { StoredFileSource } from './stored-source';

export interface NodeCacheOptions {
  /** Free bytes on the filesystem holding `dir` (default: statfs); tests inject a small disk. */
  freeBytes?: (dir: string) => Promise<number>;
  /** Creates a stored file for writing (default: open with 'wx'); tests inject a disk that fills up. */
  openForWrite?: (file: string) => Promise<WritableFile>;
  now?: () => number;
}

/** `$XDG_CACHE_HOME/korean-vicuna-webgpu`, else `~/.cache/korean-vicuna-webgpu`. */
export function defaultCacheDir(env: Record<string, string | undefined> = process.env, home = homedir()): string {
  const xdg = env.XDG_CACHE_HOME;
  // The XDG Base Directory spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(home, '.cache');
  return path.join(base, 'korean-vicuna-webgpu');
}

async function statfsFreeBytes(dir: string): Promise<number> {
  const stats = await statfs(dir);
  return stats.bavail * stats.bsize;
}

type Options = Required<NodeCacheOptions>;

export class NodeCacheStore implements CacheStore {
  readonly description: string;
  readonly root: string;
  private readonly options: Options;

  constructor(root: string, options: NodeCacheOptions = {}) {
    this.root = path.resolve(root);
    this.description = `model cache in ${this.root}`;
    this.options = {
      freeBytes: options.freeBytes ?? statfsFreeBytes,
      openForWrite: options.openForWrite ?? ((file) => open(file, 'wx')),
      now: options.now ?? Date.now,
    };
  }

  async list(): Promise<(CacheEntry & { bytes: number })[]> {
    const entries: (CacheEntry & { bytes: number })[] = [];
    for (const name of await this.folderNames()) {
      const parts = splitFolderName(name);
      if (!parts) continue; // not ours: left alone
      if (parts.suffix === '') {
        const manifest = await this.inspect(parts.id);
        if (manifest) entries.push({ id: parts.id, manifest, bytes: manifest.totalBytes });
      } else if (parts.suffix.startsWith('old-') || (parts.suffix.startsWith('partial-') && (await this.isStale(name)))) {
        await this.removeDebris(name);
      }
    }
    return entries.sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  async open(key: CacheKey): Promise<{ entry: CacheEntry; files: StoredFileSource } | null> {
    const id = cacheEntryId(key);
    const manifest = await this.inspect(id);
    if (!manifest || !sameKey(manifest.key, key)) return null;
    const folder = path.join(this.root, id);
    // Every file is opened now, so the source reads this entry even if it is replaced meanwhile.
    const handles = new Map<string, FileHandle>();
    const closeAll = async () => {
      await Promise.allSettled([...handles.values()].map((handle) => handle.close()));
    };
    try {
      for (const [name, file] of Object.entries(manifest.files)) {
        const handle = await open(path.join(folder, name), 'r');
        handles.set(name, handle);
        if ((await handle.stat()).size !== file.size) {
          await closeAll();
          return null;
        }
      }
    } catch (error) {
      await closeAll();
      if (isMissing(error)) return null; // replaced or deleted since it was inspected
      throw fsError(this.root, error);
    }
    const readRange = (file: string, offset: number, length: number) => readExactly(handles.get(file)!, folder, file, offset, length);
    const description = `${key.repo}@${key.revision} (${key.dtype}) cached in ${folder}`;
    return { entry: { id, manifest }, files: new StoredFileSource(description, manifest.files, readRange, closeAll) };
  }

  async create(key: CacheKey, expectedBytes: number): Promise<CacheWriter> {
    const id = cacheEntryId(key); // checks the key first
    checkExpectedBytes(expectedBytes);
    await mkdir(this.root, { recursive: true }).catch((error) => {
      throw fsError(this.root, error);
    });
    const available = await this.options.freeBytes(this.root).catch((error) => {
      throw fsError(this.root, error);
    });
    const needed = withHeadroom(expectedBytes);
    if (needed > available) throw quotaError(key, needed, available, this.root);
    const folder = path.join(this.root, `${id}.partial-${timedSuffix(this.options.now())}`);
    await mkdir(folder).catch((error) => {
      throw fsError(this.root, error);
    });
    const { freeBytes, openForWrite, now } = this.options;
    return new NodeCacheWriter(key, id, now, { folder, root: this.root, expectedBytes, freeBytes, openForWrite });
  }

  async delete(id: string): Promise<void> {
    checkEntryId(id);
    await this.retire(id).catch((error) => {
      throw fsError(this.root, error);
    });
  }

  async usage(): Promise<{ usedBytes: number; availableBytes: number }> {
    const entries = await this.list();
    const usedBytes = entries.reduce((sum, entry) => sum + entry.bytes, 0);
    return { usedBytes, availableBytes: await this.options.freeBytes(await existingAncestor(this.root)) };
  }

  /** The manifest of the complete entry in <id>/, or null; a damaged <id>/ is removed. */
  private async inspect(id: string): Promise<CacheManifest | null> {
    const folder = path.join(this.root, id);
    const before = await folderIdentity(folder);
    if (before === null) return null;
    const manifest = await readManifest(folder).catch((error) => {
      throw fsError(this.root, error);
    });
    const complete = manifest !== null && cacheEntryId(manifest.key) === id && (await sizesMatch(folder, manifest));
    if (complete) return manifest;
    // Only a writer's rename makes <id>/, always with a valid manifest, so this folder is damaged;
    // unless it was replaced while we looked, which a new inode shows.
    if ((await folderIdentity(folder)) === before) {
      await this.retire(id).catch(() => {
        // Best effort: it stays invisible to open() and the next list() tries again.
      });
    }
    return null;
  }

  /** Renames <id>/ away before removing it, so no reader ever opens a half-deleted entry. */
  private async retire(id: string): Promise<void> {
    const old = path.join(this.root, `${id}.old-${timedSuffix(this.options.now())}`);
    if (await renameIfPresent(path.join(this.root, id), old)) await rm(old, { recursive: true, force: true });
  }

  /** A partial folder is stale once nothing in it changed for STALE_PARTIAL_MS (appends update mtimes). */
  private async isStale(name: string): Promise<boolean> {
    const folder = path.join(this.root, name);
    let newest = suffixTime(splitFolderName(name)?.suffix ?? '') ?? 0;
    try {
      newest = Math.max(newest, (await stat(folder)).mtimeMs);
      for (const file of await readdir(folder)) newest = Math.max(newest, (await stat(path.join(folder, file))).mtimeMs);
    } catch (error) {
      if (isMissing(error)) return false; // finished or removed meanwhile
      throw fsError(this.root, error);
    }
    return this.options.now() - newest > STALE_PARTIAL_MS;
  }

  private async removeDebris(name: string): Promise<void> {
    await rm(path.join(this.root, name), { recursive: true, force: true }).catch(() => {
      // Best effort: a folder that cannot go now (on Windows, a reader may hold a file open) is
      // invisible to open() and tried again by the next list().
    });
  }

  private async folderNames(): Promise<string[]> {
    try {
      return (await readdir(this.root, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
    } catch (error) {
      if (isMissing(error)) return [];
      throw fsError(this.root, error);
    }
  }
}

async function readManifest(folder: string): Promise<CacheManifest | null> {
  const file = path.join(folder, MANIFEST_FILE);
  const stats = await statOrNull(file);
  if (!stats?.isFile() || stats.size > MAX_MANIFEST_BYTES) return null;
  try {
    return parseManifest(await readFile(file, 'utf8'));
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
}

async function sizesMatch(folder: string, manifest: CacheManifest): Promise<boolean> {
  for (const [name, file] of Object.entries(manifest.files)) {
    const stats = await statOrNull(path.join(folder, name)).catch((error) => {
      throw fsError(path.dirname(folder), error);
    });
    if (!stats?.isFile() || stats.size !== file.size) return false;
  }
  return true;
}

async function readExactly(handle: FileHandle, folder: string, file: string, offset: number, length: number): Promise<Uint8Array> {
  const bytes = new Uint8Array(length);
  for (let filled = 0; filled < length; ) {
    const { bytesRead } = await handle.read(bytes, filled, length - filled, offset + filled).catch((error) => {
      throw new EngineError('integrity-failed', `cannot read cached ${file} in ${folder}: ${errorCode(error)}`, { file }, { cause: error });
    });
    if (bytesRead === 0) {
      throw new EngineError(
        'integrity-failed',
        `cached ${file} in ${folder} ends at byte ${offset + filled}: delete this cached model and load it again`,
        { file },
      );
    }
    filled += bytesRead;
  }
  return bytes;
}

async function statOrNull(file: string) {
  try {
    return await stat(file);
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
}

/** `device:inode` of a folder (bigint: inode numbers may pass 2^53), or null when there is none. */
async function folderIdentity(folder: string): Promise<string | null> {
  try {
    const stats = await stat(folder, { bigint: true });
    return stats.isDirectory() ? `${stats.dev}:${stats.ino}` : null;
  } catch (error) {
    if (isMissing(error)) return null;
    throw fsError(path.dirname(folder), error);
  }
}

/** statfs needs a path that exists; before the first write the cache folder may not. */
async function existingAncestor(dir: string): Promise<string> {
  for (let current = dir; ; current = path.dirname(current)) {
    if ((await statOrNull(current)) || path.dirname(current) === current) return current;
  }
}
