/**
 * A cache entry's stored files as a FileSource. Sizes come from the manifest (checked against the
 * files when the entry was opened); reads go by range to the platform, never loading a whole
 * multi-gigabyte file, and a short read is an `integrity-failed` error, never a short array.
 */

import { EngineError } from '../../errors';
import { checkReadRange, checkWithinFile, MAX_TEXT_BYTES, type FileSource } from '../types';

/** Reads exactly bytes [offset, offset + length) of a stored file, or throws. */
export type RangeReader = (file: string, offset: number, length: number) => Promise<Uint8Array>;

export class StoredFileSource implements FileSource {
  private readonly sizes: Map<string, number>;

  constructor(
    readonly description: string,
    files: Record<string, { size: number }>,
    private readonly readRange: RangeReader,
    private readonly release: () => Promise<void> = async () => {},
  ) {
    // A Map, so that a name such as `__proto__` or `constructor` is never found on a prototype.
    this.sizes = new Map(Object.entries(files).map(([name, file]) => [name, file.size]));
  }

  async size(file: string, signal?: AbortSignal): Promise<number | null> {
    signal?.throwIfAborted();
    return this.sizes.get(file) ?? null;
  }

  async read(file: string, offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    signal?.throwIfAborted();
    const size = this.sizes.get(file);
    if (size === undefined) throw new EngineError('not-found', `${file} is not in ${this.description}`, { file });
    checkReadRange(file, offset, length);
    checkWithinFile(file, size, offset, length);
    const bytes = await this.readRange(file, offset, length);
    if (bytes.length !== length) {
      throw new EngineError(
        'integrity-failed',
        `cached ${file} gave ${bytes.length} bytes for [${offset}, ${offset + length}): delete this cached model and load it again`,
        { file },
      );
    }
    return bytes;
  }

  async readText(file: string, signal?: AbortSignal): Promise<string | null> {
    const size = await this.size(file, signal);
    if (size === null) return null;
    if (size > MAX_TEXT_BYTES) {
      throw new EngineError('bad-model', `${file} is ${size} bytes, too large to be a config or tokenizer file`, { file });
    }
    return new TextDecoder().decode(await this.read(file, 0, size, signal));
  }

  /** Releases open files (Node file handles); the source must not be read afterwards. */
  close(): Promise<void> {
    return this.release();
  }
}
