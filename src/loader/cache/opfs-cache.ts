/**
 * The model cache in the browser's Origin Private File System, under `models/`. Works in a
 * dedicated worker (sync access handles: much faster for gigabytes) and on the main thread
 * (writable streams). Folders cannot be renamed everywhere (FileSystemHandle.move is not
 * universal), so an entry never moves: each writer fills its own `models/<id>.<time>-<rand>/`,
 * and that folder becomes an entry only once `manifest.json`, written last, lists the sizes its
 * files have. The newest complete folder of an id wins; older ones go at commit, open and list.
 * An unfinished folder with a journal is a resumable partial entry (opfs-partial.ts).
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
  type CacheStore,
  type CacheWriter,
  type PartialEntry,
  type ResumedEntry,
} from './cache-store';
import {
  isNamed,
  OpfsCacheWriter,
  removeFolder,
  WHERE,
  type OpfsDirectory,
  type OpfsStorage,
  type WriterPlace,
} from './opfs-writer';
import { checkpointBytes, RESUMABLE_KEEP_MS, sameHeader } from './journal';
import { inspect, isNewer, type Complete, type Inspection } from './opfs-inspect';
import { reopenPartial, startJournal, takeJournal } from './opfs-partial';
import { StoredFileSource } from './stored-source';

export type { OpfsDirectory, OpfsFileHandle, OpfsStorage, OpfsSyncAccessHandle, OpfsWritable } from './opfs-writer';

export interface OpfsCacheOptions {
  /** Default: `navigator.storage`; tests pass a fake. */
  storage?: OpfsStorage;
  now?: () => number;
}

const MODELS_FOLDER = 'models';
/** How long resume() waits for a partial whose journal another worker holds (a reload's old one). */
const LOCKED_WAIT_MS = 3000;

/** Asks the browser not to evict this site's storage (it may ask the user); true when granted. */
export async function requestPersistence(storage: OpfsStorage | undefined = globalThis.navigator?.storage): Promise<boolean> {
  return (await storage?.persist?.()) ?? false;
}

export class OpfsCacheStore implements CacheStore {
  readonly description = `model cache in ${WHERE}`;
  private readonly storage: OpfsStorage | undefined;
  private readonly now: () => number;
  private folder: Promise<OpfsDirectory> | undefined;
  /** Resumable writers of this store at work, by folder name: partials() shows their progress. */
  private readonly live = new Map<string, { key: CacheKey; expectedBytes: number; writer: OpfsCacheWriter }>();
  private readonly notes = new StoreNotes();

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
    await this.checkRoom(key, expectedBytes);
    const { name, folder } = await this.makeFolder(id);
    return new OpfsCacheWriter(key, id, this.now, await this.place(id, name, folder, expectedBytes));
  }

  async resume(key: CacheKey, expectedBytes: number, header: unknown): Promise<ResumedEntry> {
    const id = cacheEntryId(key);
    checkExpectedBytes(expectedBytes);
    const models = await this.models();
    let best: { name: string; folder: OpfsDirectory; taken: NonNullable<Awaited<ReturnType<typeof takeJournal>>> } | undefined;
    for (const found of await this.inspectAll(models, id)) {
      if (found.state !== 'unfinished' || found.journal === null || this.live.has(found.name)) continue;
      const folder = await models.getDirectoryHandle(found.name);
      // A journal still held may be the reloaded page's old worker, about to let go: wait a little.
      const taken = await takeJournal(folder, found.journal === 'locked' ? LOCKED_WAIT_MS : 0);
      if (!taken) continue; // taken by another tab meanwhile
      if (!sameHeader(taken.journal, key, header) || (best && checkpointBytes(best.taken.journal) >= checkpointBytes(taken.journal))) {
        await taken.access.close();
        await removeFolder(models, found.name); // another commit or layout, or a smaller copy
        continue;
      }
      if (best) {
        await best.taken.access.close();
        await removeFolder(models, best.name);
      }
      best = { name: found.name, folder, taken };
    }
    const reopened = best && (await reopenPartial(best.folder, best.taken));
    if (best && !reopened) await removeFolder(models, best.name); // damaged: start again
    const resumedBytes = reopened ? checkpointBytes(best!.taken.journal) : 0;
    if (reopened) {
      const writer = this.track(new OpfsCacheWriter(key, id, this.now, await this.place(id, best!.name, best!.folder, expectedBytes), reopened), best!.name, key, expectedBytes);
      await this.checkRoom(key, expectedBytes - resumedBytes).catch(async (error: unknown) => {
        await writer.suspend();
        throw error;
      });
      return { writer, records: best!.taken.journal.checkpoints.map((c) => c.record), resumedBytes };
    }
    await this.checkRoom(key, expectedBytes);
    const { name, folder } = await this.makeFolder(id);
    const state = await startJournal(folder, key, expectedBytes, header);
    // Without sync access handles (a page's main thread) nothing is durable mid-way: a plain writer.
    const writer = new OpfsCacheWriter(key, id, this.now, await this.place(id, name, folder, expectedBytes), state ?? undefined);
    return { writer: state ? this.track(writer, name, key, expectedBytes) : writer, records: [], resumedBytes: 0 };
  }

  async partials(): Promise<PartialEntry[]> {
    const models = await this.models();
    const found: PartialEntry[] = [];
    for (const inspection of await this.inspectAll(models)) {
      if (inspection.state !== 'unfinished') continue;
      const live = this.live.get(inspection.name);
      if (live) {
        found.push({ id: inspection.name, key: live.key, bytes: live.writer.storedBytes, expectedBytes: live.expectedBytes, updatedAt: new Date(this.now()).toISOString(), live: true });
      } else if (inspection.journal !== null && inspection.journal !== 'locked') {
        const { journal } = inspection;
        found.push({ id: inspection.name, key: journal.head.key, bytes: checkpointBytes(journal), expectedBytes: journal.head.expectedBytes, updatedAt: new Date(inspection.lastActive).toISOString(), live: false });
      }
    }
    return found.sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  async delete(id: string): Promise<void> {
    const parts = checkEntryId(id);
    const models = await this.models();
    const found = await this.inspectAll(models, parts.id);
    if (parts.suffix !== '') {
      // Only a resumable partial nobody is writing: a live writer's folder is its writer's.
      const partial = found.find((inspection) => inspection.name === id);
      if (partial?.state !== 'unfinished' || partial.journal === null || partial.journal === 'locked' || this.live.has(id)) {
        throw new EngineError('bad-input', `${JSON.stringify(id)} is not an unfinished download that can be deleted now (it may be downloading in another tab)`);
      }
      await removeFolder(models, id, true);
      return;
    }
    for (const inspection of found) {
      if (inspection.state === 'complete' || inspection.state === 'damaged') {
        // A live writer's folder is not the entry; an unreadable one may be readable later.
        await removeFolder(models, inspection.name, true);
      }
    }
    this.notes.roomChanged();
  }

  takeDamage(key: CacheKey): string | undefined {
    return this.notes.takeDamage(key);
  }

  writeRefused(): boolean {
    return this.notes.writeRefused();
  }

  async usage(): Promise<{ usedBytes: number; availableBytes?: number; quotaBytes?: number; persisted?: boolean }> {
    // Unfinished downloads take room too.
    const usedBytes = [...(await this.list()), ...(await this.partials())].reduce((sum, entry) => sum + entry.bytes, 0);
    const estimate = await this.storage?.estimate?.();
    const persisted = await this.storage?.persisted?.();
    const availableBytes = quotaLeft(estimate);
    return {
      usedBytes,
      ...(estimate?.quota !== undefined ? { quotaBytes: estimate.quota } : {}),
      ...(availableBytes !== undefined ? { availableBytes } : {}),
      ...(persisted !== undefined ? { persisted } : {}),
    };
  }

  private async checkRoom(key: CacheKey, bytes: number): Promise<void> {
    const available = await this.availableBytes();
    const needed = withHeadroom(bytes);
    if (available !== undefined && needed > available) throw quotaError(key, needed, available, WHERE, undefined, ROOM_ADVICE.browser);
  }

  private async makeFolder(id: string): Promise<{ name: string; folder: OpfsDirectory }> {
    const models = await this.models();
    const name = `${id}.${timedSuffix(this.now())}`;
    return { name, folder: await models.getDirectoryHandle(name, { create: true }) };
  }

  private async place(id: string, name: string, folder: OpfsDirectory, expectedBytes: number): Promise<WriterPlace> {
    return {
      models: await this.models(),
      name,
      folder,
      expectedBytes,
      availableBytes: () => this.availableBytes(),
      afterPublish: () => {
        this.notes.committed(id);
        return this.scan(id);
      },
      onRelease: () => this.live.delete(name),
      onRefused: () => this.notes.noteRefusedWrite(),
    };
  }

  private track(writer: OpfsCacheWriter, name: string, key: CacheKey, expectedBytes: number): OpfsCacheWriter {
    this.live.set(name, { key, expectedBytes, writer });
    return writer;
  }

  /** Quota left for this site, where the browser says. */
  async availableBytes(): Promise<number | undefined> {
    return quotaLeft(await this.storage?.estimate?.());
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
   * folders, damaged ones and unfinished ones idle for too long: STALE_PARTIAL_MS for a writer's
   * folder without a journal, RESUMABLE_KEEP_MS for a resumable partial (a download paused
   * overnight, or for weeks, is continued; one held by a live writer is never touched).
   */
  private async scan(onlyId?: string): Promise<Map<string, Complete>> {
    const models = await this.models();
    const newest = new Map<string, Complete>();
    const discard: string[] = [];
    for (const found of await this.inspectAll(models, onlyId)) {
      if (found.state === 'unreadable') continue;
      if (found.state === 'damaged') {
        discard.push(found.name);
        this.notes.noteDamage(splitFolderName(found.name)!.id, found.reason);
      }
      else if (found.state === 'unfinished') {
        const keepMs = found.journal === null ? STALE_PARTIAL_MS : RESUMABLE_KEEP_MS;
        if (found.journal !== 'locked' && !this.live.has(found.name) && this.now() - found.lastActive > keepMs) discard.push(found.name);
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

/** Quota left for the site from a storage estimate (never below 0), where the browser says. */
function quotaLeft(estimate: { quota?: number; usage?: number } | undefined): number | undefined {
  return estimate?.quota !== undefined && estimate.usage !== undefined ? Math.max(0, estimate.quota - estimate.usage) : undefined;
}
