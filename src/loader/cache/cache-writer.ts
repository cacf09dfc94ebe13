/**
 * The part of a cache writer both stores share: operations run one at a time in call order (so
 * a caller may fire appends without awaiting each), any failure deletes everything written and
 * is then reported by every later call, and the manifest is built only from what was written.
 * A store supplies where bytes go (`openSink`), how an entry becomes visible (`publish`), how
 * its folder is removed (`removeAll`) and how a platform error reads (`describeFailure`).
 */

import { EngineError } from '../../errors';
import {
  buildManifest,
  checkStoredFileName,
  type CacheEntry,
  type CacheKey,
  type CacheManifest,
  type CacheWriter,
} from './cache-store';

/** One stored file being written. */
export interface FileSink {
  write(bytes: Uint8Array): Promise<void>;
  /** Makes the written bytes durable and releases the file. */
  close(): Promise<void>;
  /** Releases the file without keeping what was written, if the platform can tell. */
  discard(): Promise<void>;
}

/** A file written at explicit offsets: a Node FileHandle, an OPFS sync access handle. */
export interface PositionalFile {
  /** Writes some prefix of `bytes` at byte `at`; returns how many bytes it wrote. */
  writeAt(bytes: Uint8Array, at: number): number | Promise<number>;
  /** Makes what was written durable. */
  flush(): void | Promise<void>;
  close(): void | Promise<void>;
}

/** A positional file as a FileSink: appends in order (looping on short writes), flushes and closes once. */
export function positionalSink(file: string, target: PositionalFile): FileSink {
  let position = 0;
  let open = true;
  return {
    write: async (bytes) => {
      for (let done = 0; done < bytes.length; ) {
        const written = await target.writeAt(bytes.subarray(done), position + done);
        if (written <= 0) throw new EngineError('internal', `writing cached ${file} made no progress`);
        done += written;
      }
      position += bytes.length;
    },
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

type State = 'open' | 'committed' | 'aborted';

export abstract class SerialCacheWriter implements CacheWriter {
  private readonly files = new Map<string, { sink: FileSink; size: number }>();
  private state: State = 'open';
  /** The error every call reports once the writer has failed. */
  private failure: unknown;
  private tail: Promise<unknown> = Promise.resolve();
  private removal: Promise<void> | undefined;

  constructor(
    readonly key: CacheKey,
    readonly id: string,
    protected readonly now: () => number,
  ) {}

  protected abstract openSink(file: string): Promise<FileSink>;
  /** Writes the manifest and makes the entry visible; it either succeeds or leaves any older entry as it was. */
  protected abstract publish(manifest: CacheManifest): Promise<void>;
  /** Deletes this writer's folder and everything in it; succeeds when it is already gone. */
  protected abstract removeAll(): Promise<void>;
  /** The error to report for a platform failure, asked after everything was removed (so free space is current). */
  protected abstract describeFailure(error: unknown): Promise<unknown>;
  /** Runs after each append; the OPFS store uses it to show a live writer's folder is not debris. */
  protected async afterAppend(): Promise<void> {}

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
      await this.publish(manifest);
      this.state = 'committed';
      return { id: this.id, manifest };
    });
  }

  abort(): Promise<void> {
    // A committed entry is the store's now; abort() after commit() leaves it alone.
    if (this.state === 'committed') return Promise.resolve();
    if (this.state === 'open') {
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
    if (this.state === 'aborted') throw this.failure;
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
        await this.removeEverything().catch(() => {
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

  private removeEverything(): Promise<void> {
    this.removal ??= (async () => {
      await Promise.allSettled([...this.files.values()].map((file) => file.sink.discard()));
      await this.removeAll();
    })().catch((error: unknown) => {
      this.removal = undefined; // let a later abort() try again
      throw error;
    });
    return this.removal;
  }
}
