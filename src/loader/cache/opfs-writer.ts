/**
 * The OPFS API subset the browser cache uses, and the writer that fills one entry folder
 * `models/<id>.<time>-<rand>/` and publishes it by writing `manifest.json` last (see
 * opfs-cache.ts for why folders never move). Browser-safe; tested through opfs-cache.test.ts.
 */

import { EngineError } from '../../errors';
import { MANIFEST_FILE, refusedWriteError, ROOM_ADVICE, withHeadroom, type CacheKey, type CacheManifest } from './cache-store';
import { positionalSink, SerialCacheWriter, type FileSink, type JournalState } from './cache-writer';
import { JOURNAL_FILE } from './journal';

/** The subset of FileSystemDirectoryHandle used here (the DOM typings lack its async iteration). */
export interface OpfsDirectory {
  readonly kind: 'directory';
  getDirectoryHandle(name: string, options?: { create?: boolean }): Promise<OpfsDirectory>;
  getFileHandle(name: string, options?: { create?: boolean }): Promise<OpfsFileHandle>;
  removeEntry(name: string, options?: { recursive?: boolean }): Promise<void>;
  entries(): AsyncIterable<[string, OpfsDirectory | OpfsFileHandle]>;
}

export interface OpfsFileHandle {
  readonly kind: 'file';
  getFile(): Promise<File>;
  createWritable?(options?: { keepExistingData?: boolean }): Promise<OpfsWritable>;
  /** Only in dedicated workers. */
  createSyncAccessHandle?(): Promise<OpfsSyncAccessHandle>;
}

export interface OpfsWritable {
  write(data: Uint8Array): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}

/** flush/truncate/close returned promises in Chrome before 108, hence the unions. */
export interface OpfsSyncAccessHandle {
  write(buffer: Uint8Array, options?: { at?: number }): number;
  read(buffer: Uint8Array, options?: { at?: number }): number;
  getSize(): number | Promise<number>;
  truncate(size: number): void | Promise<void>;
  flush(): void | Promise<void>;
  close(): void | Promise<void>;
}

/** The subset of StorageManager used here. */
export interface OpfsStorage {
  getDirectory(): Promise<unknown>;
  estimate?(): Promise<{ usage?: number; quota?: number }>;
  persisted?(): Promise<boolean>;
  persist?(): Promise<boolean>;
}

/** Rewritten every few minutes by a live writer, whose appends (through a writable stream) may not touch its files' dates. */
const HEARTBEAT_FILE = '.heartbeat';
const HEARTBEAT_MS = 5 * 60 * 1000;
export const WHERE = "this site's browser storage";

export interface WriterPlace {
  models: OpfsDirectory;
  name: string;
  folder: OpfsDirectory;
  expectedBytes: number;
  availableBytes: () => Promise<number | undefined>;
  afterPublish: () => Promise<unknown>;
  /** Called once when the writer stops (the store forgets it as live). */
  onRelease?: () => void;
  /** The browser refused a write (the store stops trusting its estimate to promise room). */
  onRefused?: () => void;
}

export class OpfsCacheWriter extends SerialCacheWriter {
  private lastBeat: number;

  constructor(key: CacheKey, id: string, now: () => number, private readonly place: WriterPlace, resumable?: JournalState) {
    super(key, id, now, resumable);
    this.lastBeat = now();
  }

  protected override async release(): Promise<void> {
    this.place.onRelease?.();
  }

  protected async openSink(file: string): Promise<FileSink> {
    const handle = await this.place.folder.getFileHandle(file, { create: true });
    if (handle.createSyncAccessHandle) return accessSink(file, await handle.createSyncAccessHandle(), 0);
    if (!handle.createWritable) throw new EngineError('unsupported', 'This browser cannot write files to its Origin Private File System.');
    const writable = await handle.createWritable({ keepExistingData: false });
    let open = true;
    return {
      write: (bytes) => writable.write(bytes),
      // A writable stream's bytes land only at close(): nothing is durable before (resume() never uses one).
      sync: async () => {
        throw new EngineError('internal', `cached ${file} cannot be made durable before it is closed`);
      },
      close: async () => {
        if (!open) return;
        open = false;
        await writable.close();
      },
      // abort() drops the stream's pending copy, so nothing of it reaches the file.
      discard: async () => {
        if (!open) return;
        open = false;
        await writable.abort();
      },
    };
  }

  protected override async afterAppend(): Promise<void> {
    if (this.now() - this.lastBeat < HEARTBEAT_MS) return;
    this.lastBeat = this.now();
    await writeSmallFile(this.place.folder, HEARTBEAT_FILE, String(this.lastBeat));
  }

  protected async publish(manifest: CacheManifest): Promise<void> {
    const { folder } = this.place;
    // Sizes as the browser sees them, so that a lost write can never hide behind a manifest.
    for (const [file, { size }] of Object.entries(manifest.files)) {
      const actual = (await (await folder.getFileHandle(file)).getFile()).size;
      if (actual !== size) throw new EngineError('integrity-failed', `cached ${file} holds ${actual} bytes after ${size} were written`, { file });
    }
    await folder.removeEntry(HEARTBEAT_FILE).catch((error: unknown) => {
      if (!isNamed(error, 'NotFoundError')) throw error;
    });
    await writeSmallFile(folder, MANIFEST_FILE, JSON.stringify(manifest));
    // A resumable entry's journal means nothing in a complete one (readers ignore it).
    await folder.removeEntry(JOURNAL_FILE).catch(() => undefined);
    // This entry is complete now; removing the older ones for the key is tidying, not publishing.
    await this.place.afterPublish().catch(() => {
      // open() and list() keep only the newest complete folder and try the removal again.
    });
  }

  protected async removeAll(): Promise<void> {
    await removeFolder(this.place.models, this.place.name, true);
  }

  protected async describeFailure(error: unknown): Promise<unknown> {
    if (isNamed(error, 'QuotaExceededError')) {
      this.place.onRefused?.();
      // Asked after the unfinished entry was removed: the room there really is for a new try.
      const available = await this.place.availableBytes().catch(() => undefined);
      return refusedWriteError(this.key, withHeadroom(this.place.expectedBytes), available, WHERE, ROOM_ADVICE.browser, error);
    }
    if (isNamed(error, 'NotFoundError')) {
      return new EngineError(
        'not-found',
        `the unfinished cache folder for ${this.key.repo} disappeared while writing (site data was cleared, or another tab ` +
          'removed it after an hour without writes); load the model again to cache it',
        undefined,
        { cause: error },
      );
    }
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return new EngineError('internal', `caching ${this.key.repo} failed: ${reason}`, undefined, { cause: error });
  }
}

/** A sync access handle as a FileSink, appending from `start` (it also reads, for a resume's restore). */
export function accessSink(file: string, access: OpfsSyncAccessHandle, start: number): FileSink {
  return positionalSink(
    file,
    {
      writeAt: (bytes, at) => {
        const written = access.write(bytes, { at });
        // Chromium (checked on 156) does not throw QuotaExceededError from a sync access handle's
        // write past the quota: it returns base::File's error code as an unsigned number
        // (FILE_ERROR_NO_SPACE, -8, as 4294967288), which would read as progress.
        if (written > bytes.length) throw new DOMException(`the browser refused to store more of ${file} (write returned ${written})`, 'QuotaExceededError');
        return written;
      },
      readAt: (bytes, at) => access.read(bytes, { at }),
      flush: () => access.flush(),
      close: () => access.close(),
    },
    start,
  );
}

/** A whole small file; through a writable stream where there is one, whose close() swaps the content in at once. */
async function writeSmallFile(folder: OpfsDirectory, name: string, text: string): Promise<void> {
  const bytes = new TextEncoder().encode(text);
  const handle = await folder.getFileHandle(name, { create: true });
  if (handle.createWritable) {
    const writable = await handle.createWritable({ keepExistingData: false });
    await writable.write(bytes).catch(async (error: unknown) => {
      await writable.abort();
      throw error;
    });
    await writable.close();
    return;
  }
  const access = await handle.createSyncAccessHandle!();
  try {
    await access.truncate(0);
    access.write(bytes, { at: 0 });
    await access.flush();
  } finally {
    await access.close();
  }
}

/** Removes a folder; `strict` reports failures, otherwise a folder that stays is retried by the next scan. */
export async function removeFolder(models: OpfsDirectory, name: string, strict = false): Promise<void> {
  await models.removeEntry(name, { recursive: true }).catch((error: unknown) => {
    if (strict && !isNamed(error, 'NotFoundError')) throw error;
  });
}

export function isNamed(error: unknown, name: string): boolean {
  return (error as { name?: unknown } | null)?.name === name;
}
