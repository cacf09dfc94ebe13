/**
 * The model cache in a folder on disk (Node only: the CLI and the Dawn tests; the browser bundle
 * never imports this file). Under the root:
 *   <id>/                       a complete entry: its stored files and manifest.json
 *   <id>.partial-<time>-<rand>/ a writer at work; <time> (base36 ms) dates it for other processes;
 *                               with a `.journal` it is a resumable partial (node-partial.ts)
 *   <id>.old-<time>-<rand>/     an entry being replaced or deleted
 * A writer fills its partial folder, writes the manifest, then renames the folder to <id>/.
 * Rename is atomic, so a reader sees a whole entry or none, even across a crash.
 */

import { mkdir, open, readdir, rm, stat, statfs, type FileHandle } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { EngineError } from '../../errors';
import {
  cacheEntryId,
  checkEntryId,
  checkExpectedBytes,
  quotaError,
  ROOM_ADVICE,
  sameKey,
  splitFolderName,
  STALE_PARTIAL_MS,
  StoreNotes,
  suffixTime,
  timedSuffix,
  withHeadroom,
  type CacheEntry,
  type CacheKey,
  type CacheManifest,
  type CacheStore,
  type CacheWriter,
  type PartialEntry,
  type ResumedEntry,
} from './cache-store';
import { checkpointBytes, RESUMABLE_KEEP_MS, sameHeader, type Journal } from './journal';
import { describePartial, isLive, isPartialFolder, readJournal, reopenPartial, startJournal, tryLock } from './node-partial';
import { isMissing } from '../node-fs';
import { fsError, NodeCacheWriter, renameIfPresent, type NodeWriterPlace, type WritableFile } from './node-cache-writer';
import { existingAncestor, folderIdentity, readExactly, readManifest, sizeMismatch } from './node-entry-files';
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
  private readonly notes = new StoreNotes();

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
      } else if (parts.suffix.startsWith('old-') || (parts.suffix.startsWith('partial-') && (await this.isAbandoned(name)))) {
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
    await this.makeRoot();
    await this.checkRoom(key, expectedBytes);
    const folder = await this.makePartialFolder(id);
    return new NodeCacheWriter(key, id, this.options.now, this.place(id, folder, expectedBytes));
  }

  async resume(key: CacheKey, expectedBytes: number, header: unknown): Promise<ResumedEntry> {
    const id = cacheEntryId(key);
    checkExpectedBytes(expectedBytes);
    await this.makeRoot();
    let best: { folder: string; journal: Journal } | undefined;
    for (const name of (await this.folderNames()).filter((folderName) => isPartialFolder(folderName, id))) {
      const folder = path.join(this.root, name);
      const journal = await readJournal(folder).catch((error) => {
        throw fsError(this.root, error);
      });
      // A plain writer's folder, or one a live process holds, is not ours to continue.
      if (!journal || !(await tryLock(folder))) continue;
      if (!sameHeader(journal, key, header) || (best && checkpointBytes(best.journal) >= checkpointBytes(journal))) {
        await this.removeDebris(name); // another commit or layout, or a smaller copy
        continue;
      }
      if (best) await this.removeDebris(path.basename(best.folder));
      best = { folder, journal };
    }
    const reopened = best && (await reopenPartial(best.folder, best.journal));
    if (best && !reopened) await this.removeDebris(path.basename(best.folder)); // damaged: start again
    const resumedBytes = reopened ? checkpointBytes(best!.journal) : 0;
    try {
      await this.checkRoom(key, expectedBytes - resumedBytes);
    } catch (error) {
      if (reopened) await new NodeCacheWriter(key, id, this.options.now, this.place(id, best!.folder, expectedBytes), reopened).suspend();
      throw error;
    }
    if (reopened) {
      const writer = new NodeCacheWriter(key, id, this.options.now, this.place(id, best!.folder, expectedBytes), reopened);
      return { writer, records: best!.journal.checkpoints.map((c) => c.record), resumedBytes };
    }
    const folder = await this.makePartialFolder(id);
    const state = await (async () => {
      if (!(await tryLock(folder))) throw new EngineError('internal', `cannot lock the new cache folder ${folder}`);
      return startJournal(folder, key, expectedBytes, header);
    })().catch(async (error: unknown) => {
      await rm(folder, { recursive: true, force: true });
      throw fsError(this.root, error);
    });
    return { writer: new NodeCacheWriter(key, id, this.options.now, this.place(id, folder, expectedBytes), state), records: [], resumedBytes: 0 };
  }

  async partials(): Promise<PartialEntry[]> {
    const found: PartialEntry[] = [];
    for (const name of (await this.folderNames()).filter((folderName) => isPartialFolder(folderName))) {
      const journal = await readJournal(path.join(this.root, name)).catch(() => null);
      if (journal) found.push(await describePartial(this.root, name, journal));
    }
    return found.sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  async delete(id: string): Promise<void> {
    const parts = checkEntryId(id);
    if (parts.suffix !== '') {
      // Only a resumable partial: a plain writer's folder is its writer's until it is debris.
      const folder = path.join(this.root, id);
      if (!isPartialFolder(id) || !(await readJournal(folder).catch(() => null))) throw new EngineError('bad-input', `${JSON.stringify(id)} is not a cached model id`);
      if (await isLive(folder)) throw new EngineError('bad-input', `${id} is being downloaded by a running process: stop it first`);
      await rm(path.join(this.root, id), { recursive: true, force: true }).catch((error) => {
        throw fsError(this.root, error);
      });
      return;
    }
    await this.retire(id).catch((error) => {
      throw fsError(this.root, error);
    });
    this.notes.roomChanged();
  }

  takeDamage(key: CacheKey): string | undefined {
    return this.notes.takeDamage(key);
  }

  writeRefused(): boolean {
    return this.notes.writeRefused();
  }

  async usage(): Promise<{ usedBytes: number; availableBytes: number }> {
    // Unfinished downloads take room too.
    const entries = [...(await this.list()), ...(await this.partials())];
    const usedBytes = entries.reduce((sum, entry) => sum + entry.bytes, 0);
    return { usedBytes, availableBytes: await this.availableBytes() };
  }

  async availableBytes(): Promise<number> {
    return this.options.freeBytes(await existingAncestor(this.root));
  }

  private async makeRoot(): Promise<void> {
    await mkdir(this.root, { recursive: true }).catch((error) => {
      throw fsError(this.root, error);
    });
  }

  private async checkRoom(key: CacheKey, bytes: number): Promise<void> {
    const available = await this.options.freeBytes(this.root).catch((error) => {
      throw fsError(this.root, error);
    });
    const needed = withHeadroom(bytes);
    if (needed > available) throw quotaError(key, needed, available, this.root, undefined, ROOM_ADVICE.folder);
  }

  private async makePartialFolder(id: string): Promise<string> {
    const folder = path.join(this.root, `${id}.partial-${timedSuffix(this.options.now())}`);
    await mkdir(folder).catch((error) => {
      throw fsError(this.root, error);
    });
    return folder;
  }

  private place(id: string, folder: string, expectedBytes: number): NodeWriterPlace {
    const { freeBytes, openForWrite } = this.options;
    return {
      folder,
      root: this.root,
      expectedBytes,
      freeBytes,
      openForWrite,
      onRefused: () => this.notes.noteRefusedWrite(),
      onPublished: () => this.notes.committed(id),
    };
  }

  /**
   * Whether an unfinished folder is debris. A resumable partial (with a journal) is kept for
   * RESUMABLE_KEEP_MS after its last progress, so a download paused overnight continues; one
   * without a journal (killed before its first checkpoint) goes after STALE_PARTIAL_MS, as a
   * crashed writer's folder always did. A folder a live process holds is never debris.
   */
  private async isAbandoned(name: string): Promise<boolean> {
    const folder = path.join(this.root, name);
    const journal = await readJournal(folder).catch(() => null);
    if (!journal) return this.isStale(name, STALE_PARTIAL_MS);
    return (await this.isStale(name, RESUMABLE_KEEP_MS)) && !(await isLive(folder));
  }

  /** The manifest of the complete entry in <id>/, or null; a damaged <id>/ is removed. */
  private async inspect(id: string): Promise<CacheManifest | null> {
    const folder = path.join(this.root, id);
    const before = await folderIdentity(folder);
    if (before === null) return null;
    const manifest = await readManifest(folder).catch((error) => {
      throw fsError(this.root, error);
    });
    const damage =
      manifest === null ? 'its manifest is missing or unreadable' : cacheEntryId(manifest.key) !== id ? `its manifest names another model (${manifest.key.repo})` : await sizeMismatch(folder, manifest);
    if (damage === null) return manifest;
    // Only a writer's rename makes <id>/, always with a valid manifest, so this folder is damaged;
    // unless it was replaced while we looked, which a new inode shows.
    if ((await folderIdentity(folder)) === before) {
      this.notes.noteDamage(id, damage);
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

  /** A partial folder is stale once nothing in it changed for `idleMs` (appends update mtimes). */
  private async isStale(name: string, idleMs: number): Promise<boolean> {
    const folder = path.join(this.root, name);
    let newest = suffixTime(splitFolderName(name)?.suffix ?? '') ?? 0;
    try {
      newest = Math.max(newest, (await stat(folder)).mtimeMs);
      for (const file of await readdir(folder)) newest = Math.max(newest, (await stat(path.join(folder, file))).mtimeMs);
    } catch (error) {
      if (isMissing(error)) return false; // finished or removed meanwhile
      throw fsError(this.root, error);
    }
    return this.options.now() - newest > idleMs;
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
