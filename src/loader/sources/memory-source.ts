/**
 * A FileSource over files held in memory: test fixtures, and files a browser user drops in
 * (small ones; a dropped multi-gigabyte shard should be wrapped as a Blob-backed source instead).
 */

import { EngineError } from '../../errors';
import { checkReadRange, checkWithinFile, type FileSource } from '../types';

export class MemorySource implements FileSource {
  private readonly files: Map<string, Uint8Array>;

  constructor(
    files: Map<string, Uint8Array> | Record<string, Uint8Array> = new Map(),
    readonly description = 'in-memory files',
  ) {
    this.files = files instanceof Map ? new Map(files) : new Map(Object.entries(files));
  }

  /** Adds or replaces a file. */
  set(file: string, bytes: Uint8Array | string): void {
    this.files.set(file, typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes);
  }

  async size(file: string, signal?: AbortSignal): Promise<number | null> {
    signal?.throwIfAborted();
    return this.files.get(file)?.length ?? null;
  }

  async read(file: string, offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    signal?.throwIfAborted();
    const bytes = this.files.get(file);
    if (!bytes) throw new EngineError('not-found', `${file} is not in ${this.description}`, { file });
    checkReadRange(file, offset, length);
    checkWithinFile(file, bytes.length, offset, length);
    // A copy, so that a caller holding the result cannot change the file.
    return bytes.slice(offset, offset + length);
  }

  async readText(file: string, signal?: AbortSignal): Promise<string | null> {
    signal?.throwIfAborted();
    const bytes = this.files.get(file);
    return bytes ? new TextDecoder().decode(bytes) : null;
  }
}
