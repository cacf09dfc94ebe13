/**
 * Writes one entry of the Node model cache into its `<id>.partial-*` folder and publishes it by
 * renaming the folder to `<id>/` (see node-cache.ts for the layout), plus the filesystem helpers
 * the store shares. Node only.
 */

import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EngineError } from '../../errors';
import { errorCode, isMissing } from '../node-fs';
import { MANIFEST_FILE, refusedWriteError, ROOM_ADVICE, timedSuffix, withHeadroom, type CacheKey, type CacheManifest } from './cache-store';
import { positionalSink, SerialCacheWriter, type FileSink, type JournalState } from './cache-writer';
import { JOURNAL_FILE } from './journal';
import { LOCK_FILE, unlock } from './node-partial';

/** The part of a FileHandle a writer uses. */
export interface WritableFile {
  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  datasync(): Promise<void>;
  close(): Promise<void>;
}

export interface NodeWriterPlace {
  /** The writer's own partial folder, already made. */
  folder: string;
  root: string;
  expectedBytes: number;
  freeBytes: (dir: string) => Promise<number>;
  openForWrite: (file: string) => Promise<WritableFile>;
  /** The disk refused a write (the store stops trusting its free-space figure to promise room). */
  onRefused?: () => void;
  /** The entry was published (the room changed). */
  onPublished?: () => void;
}

export class NodeCacheWriter extends SerialCacheWriter {
  constructor(
    key: CacheKey,
    id: string,
    now: () => number,
    private readonly place: NodeWriterPlace,
    resumable?: JournalState,
  ) {
    super(key, id, now, resumable);
  }

  protected override async release(): Promise<void> {
    // After publish the folder has moved and this finds nothing: rm's `force` makes that fine.
    if (this.resumable) await unlock(this.place.folder);
  }

  protected async openSink(file: string): Promise<FileSink> {
    const handle = await this.place.openForWrite(path.join(this.place.folder, file));
    return positionalSink(file, {
      writeAt: async (bytes, at) => (await handle.write(bytes, 0, bytes.length, at)).bytesWritten,
      flush: () => handle.datasync(),
      close: () => handle.close(),
    });
  }

  protected async publish(manifest: CacheManifest): Promise<void> {
    await writeFile(path.join(this.place.folder, MANIFEST_FILE), JSON.stringify(manifest), { flag: 'wx' });
    const target = path.join(this.place.root, this.id);
    const retired: string[] = [];
    // Another process may publish the same key between our two renames: then theirs is moved
    // away too (last writer wins), a few times at most.
    for (let attempt = 0; ; attempt++) {
      const old = path.join(this.place.root, `${this.id}.old-${timedSuffix(this.now())}`);
      if (await renameIfPresent(target, old)) retired.push(old);
      try {
        await rename(this.place.folder, target);
        break;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (attempt < 3 && (code === 'ENOTEMPTY' || code === 'EEXIST')) continue;
        // Put the entry we displaced back; if even that fails, it was only a cache entry.
        const latest = retired.pop();
        if (latest) await renameIfPresent(latest, target).catch(() => false);
        throw error;
      }
    }
    for (const old of retired) {
      await rm(old, { recursive: true, force: true }).catch(() => {
        // The new entry is in place; an `.old-` folder left behind is removed by the next list().
      });
    }
    this.place.onPublished?.();
    // A resumable entry's journal and lock mean nothing in a complete one (readers ignore them).
    for (const file of [JOURNAL_FILE, LOCK_FILE]) await rm(path.join(target, file), { force: true }).catch(() => undefined);
  }

  protected async removeAll(): Promise<void> {
    await rm(this.place.folder, { recursive: true, force: true });
  }

  protected async describeFailure(error: unknown): Promise<unknown> {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      this.place.onRefused?.();
      // Measured after the partial entry was removed: the room there really is for a new try.
      // Should that lookup fail too, the disk is still full: report none rather than lose the quota error.
      const available = await this.place.freeBytes(this.place.root).catch(() => 0);
      return refusedWriteError(this.key, withHeadroom(this.place.expectedBytes), available, this.place.root, ROOM_ADVICE.folder, error);
    }
    if (code === 'ENOENT') {
      return new EngineError(
        'not-found',
        `the unfinished cache folder ${this.place.folder} disappeared while caching ${this.key.repo} (another process ` +
          'removes folders idle for over an hour); load the model again to cache it',
        undefined,
        { cause: error },
      );
    }
    return fsError(this.place.root, error);
  }
}

export async function renameIfPresent(from: string, to: string): Promise<boolean> {
  try {
    await rename(from, to);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

/** Any other filesystem failure: the cache folder is unusable as configured. */
export function fsError(root: string, error: unknown): EngineError {
  if (error instanceof EngineError) return error;
  return new EngineError(
    'bad-input',
    `cannot use the model cache in ${root}: ${errorCode(error)}; choose another cache folder or fix its permissions`,
    undefined,
    { cause: error },
  );
}
