/**
 * The part of a cache writer both stores share: operations run one at a time in call order (so
 * a caller may fire appends without awaiting each), a failure is reported by every later call,
 * and the manifest is built only from what was written. A plain writer deletes everything on
 * failure; a resumable one (with a journal, see journal.ts) keeps what its last checkpoint made
 * durable, for the next writer to continue. A store supplies where bytes go (`openSink`), how an
 * entry becomes visible (`publish`), how its folder is removed (`removeAll`), how a platform
 * error reads (`describeFailure`) and what to let go of when the writer stops (`release`).
 */

import { EngineError } from '../../errors';
import {
  buildManifest,
  checkStoredFileName,
  type CacheEntry,
  type CacheKey,
  type CacheManifest,
  type ResumableWriter,
} from './cache-store';
import { journalLine } from './journal';

/** One stored file being written. */
export interface FileSink {
  write(bytes: Uint8Array): Promise<void>;
  /** Makes the written bytes durable, keeping the file open (needed by resumable writers only). */
  sync(): Promise<void>;
  /** Reads bytes [at, at + bytes.length) back, where the platform can while the file is open for writing. */
  read?(bytes: Uint8Array, at: number): Promise<number>;
  /** Makes the written bytes durable and releases the file. */
  close(): Promise<void>;
  /** Releases the file without keeping what was written, if the platform can tell. */
  discard(): Promise<void>;
}

/** A file written at explicit offsets: a Node FileHandle, an OPFS sync access handle. */
export interface PositionalFile {
  /** Writes some prefix of `bytes` at byte `at`; returns how many bytes it wrote. */
  writeAt(bytes: Uint8Array, at: number): number | Promise<number>;
  /** Reads into some prefix of `bytes` from byte `at`; returns how many bytes it read (0 at the end). */
  readAt?(bytes: Uint8Array, at: number): number | Promise<number>;
  /** Makes what was written durable. */
  flush(): void | Promise<void>;
  close(): void | Promise<void>;
}

/** A positional file as a FileSink: appends in order from `start` (looping on short writes), flushes and closes once. */
export function positionalSink(file: string, target: PositionalFile, start = 0): FileSink {
  let position = start;
  let open = true;
  const readAt = target.readAt?.bind(target);
  return {
    write: async (bytes) => {
      for (let done = 0; done < bytes.length; ) {
        const written = await target.writeAt(bytes.subarray(done), position + done);
        if (written <= 0) throw new EngineError('internal', `writing cached ${file} made no progress`);
        done += written;
      }
      position += bytes.length;
    },
    sync: async () => {
      await target.flush();
    },
    ...(readAt ? { read: async (bytes: Uint8Array, at: number) => readAt(bytes, at) } : {}),
    close: async () => {
      if (!open) return;
      open = false;
      try {
        await target.flush();
      } finally {
        await target.close();
      }
    },
    discard: async () => {
      if (open) await target.close();
      open = false;
    },
  };
}

type State = 'open' | 'committed' | 'aborted' | 'suspended';

/** What a resumable writer starts with: the journal (head written) and, when resuming, the stored files at their checkpointed sizes. */
export interface JournalState {
  journal: FileSink;
  files: Map<string, { sink: FileSink; size: number }>;
}

export abstract class SerialCacheWriter implements ResumableWriter {
  private readonly files: Map<string, { sink: FileSink; size: number }>;
  private readonly journal: FileSink | undefined;
  private state: State = 'open';
  /** The error every call reports once the writer has failed. */
  private failure: unknown;
  private tail: Promise<unknown> = Promise.resolve();
  private removal: Promise<void> | undefined;

  constructor(
    readonly key: CacheKey,
    readonly id: string,
    protected readonly now: () => number,
    resumable?: JournalState,
  ) {
    this.files = new Map(resumable?.files);
    this.journal = resumable?.journal;
  }

  get resumable(): boolean {
    return this.journal !== undefined;
  }

  protected abstract openSink(file: string): Promise<FileSink>;
  /** Writes the manifest and makes the entry visible; it either succeeds or leaves any older entry as it was. */
  protected abstract publish(manifest: CacheManifest): Promise<void>;
  /** Deletes this writer's folder and everything in it; succeeds when it is already gone. */
  protected abstract removeAll(): Promise<void>;
  /** The error to report for a platform failure, asked after everything was removed (so free space is current). */
  protected abstract describeFailure(error: unknown): Promise<unknown>;
  /** Runs after each append; the OPFS store uses it to show a live writer's folder is not debris. */
  protected async afterAppend(): Promise<void> {}
  /** Runs once when the writer stops for good, however (the Node store drops its lock file). */
  protected async release(): Promise<void> {}

  size(file: string): number {
    return this.files.get(file)?.size ?? 0;
  }

  /** Bytes appended to all stored files so far. */
  get storedBytes(): number {
    return [...this.files.values()].reduce((sum, file) => sum + file.size, 0);
  }

  /** Bytes [offset, offset + length) of a stored file, read through the writer's own handle. */
  async read(file: string, offset: number, length: number): Promise<Uint8Array> {
    const sink = this.files.get(file)?.sink;
    if (!sink?.read) throw new EngineError('internal', `cached ${file} cannot be read back while it is being written`);
    const bytes = new Uint8Array(length);
    for (let filled = 0; filled < length; ) {
      const count = await sink.read(bytes.subarray(filled), offset + filled);
      if (count <= 0) throw new EngineError('integrity-failed', `cached ${file} ends at byte ${offset + filled}, before ${offset + length}`, { file });
      filled += count;
    }
    return bytes;
  }

  checkpoint(record: unknown): Promise<void> {
    return this.serial(async () => {
      this.checkOpen();
      if (!this.journal) return; // a plain writer keeps nothing of an unfinished entry
      // The bytes first, then the line that vouches for them.
      for (const file of this.files.values()) await file.sink.sync();
      const sizes = Object.fromEntries([...this.files].map(([name, file]) => [name, file.size]));
      await this.journal.write(journalLine({ sizes, record }));
      await this.journal.sync();
    });
  }

  suspend(): Promise<void> {
    if (this.state !== 'open') return this.enqueue(async () => undefined);
    if (!this.journal) return this.abort(); // nothing of a plain writer's entry can be continued
    this.state = 'suspended';
    this.failure = new EngineError('internal', `the cache writer for ${this.key.repo} was suspended`);
    return this.enqueue(() => this.keepEverything());
  }

  append(file: string, bytes: Uint8Array): Promise<void> {
    return this.serial(async () => {
      this.checkOpen();
      checkStoredFileName(file);
      let stored = this.files.get(file);
      if (!stored) {
        stored = { sink: await this.openSink(file), size: 0 };
        this.files.set(file, stored);
      }
      await stored.sink.write(bytes);
      stored.size += bytes.length;
      await this.afterAppend();
    });
  }

  commit(meta: Omit<CacheManifest, 'files' | 'totalBytes' | 'version' | 'createdAt'>): Promise<CacheEntry> {
    return this.serial(async () => {
      this.checkOpen();
      const sizes = new Map([...this.files].map(([name, file]) => [name, file.size]));
      const manifest = buildManifest(this.key, meta, sizes, new Date(this.now()));
      // Every stored byte is durable before the manifest that vouches for it exists.
      for (const file of this.files.values()) await file.sink.close();
      await this.journal?.close();
      await this.publish(manifest);
      this.state = 'committed';
      await this.release();
      return { id: this.id, manifest };
    });
  }

  abort(): Promise<void> {
    // A committed entry is the store's now; abort() after commit() leaves it alone.
    if (this.state === 'committed') return Promise.resolve();
    if (this.state === 'open' || this.state === 'suspended') {
      this.state = 'aborted';
      this.failure = new EngineError('internal', `the cache writer for ${this.key.repo} was aborted`);
    }
    // Queued behind earlier calls, so it never removes a file an append is still writing.
    return this.enqueue(async () => {
      if (this.state !== 'committed') await this.removeEverything(); // a commit already under way won
    });
  }

  private checkOpen(): void {
    if (this.state === 'committed') {
      throw new EngineError('internal', `the cache writer for ${this.key.repo} was already committed`);
    }
    if (this.state !== 'open') throw this.failure;
  }

  /** Runs `op` in call order; a failure removes everything before it is reported, and stays the writer's answer. */
  private serial<T>(op: () => Promise<T>): Promise<T> {
    return this.enqueue(async () => {
      try {
        return await op();
      } catch (error) {
        if (this.state === 'committed') throw error;
        const firstFailure = this.state === 'open';
        this.state = 'aborted';
        // A resumable entry keeps what its last checkpoint vouches for; a plain one goes.
        await (this.journal ? this.keepEverything() : this.removeEverything()).catch(() => {
          // The write's failure is the one to report; the folder stays invisible (no manifest) and a
          // later abort() retries, or list() removes it once stale.
        });
        if (firstFailure) this.failure = error instanceof EngineError ? error : await this.describeFailure(error);
        throw this.failure;
      }
    });
  }

  /** Runs `op` after every earlier call has settled. */
  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const result = this.tail.then(op);
    // The queue only orders calls; each caller gets its own outcome through `result`.
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Closes every file as it is: the journal says how much of it counts. */
  private async keepEverything(): Promise<void> {
    await Promise.allSettled([...this.files.values(), { sink: this.journal! }].map((file) => file.sink.close()));
    await this.release();
  }

  private removeEverything(): Promise<void> {
    this.removal ??= (async () => {
      const sinks = [...this.files.values()].map((file) => file.sink);
      await Promise.allSettled([...sinks, ...(this.journal ? [this.journal] : [])].map((sink) => sink.discard()));
      await this.release();
      await this.removeAll();
    })().catch((error: unknown) => {
      this.removal = undefined; // let a later abort() try again
      throw error;
    });
    return this.removal;
  }
}
