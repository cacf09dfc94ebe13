/**
 * A model folder on disk as a FileSource (Node only: the CLI and the Dawn tests; the browser
 * bundle never imports this file). Byte ranges are read through one cached FileHandle per file,
 * so streaming a 10 GB shard in chunks opens it once and never holds it whole. Call close().
 */

import { open, readFile, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { EngineError } from '../../errors';
import { errorCode, isMissing } from '../node-fs';
import { checkReadRange, MAX_TEXT_BYTES, type FileSource } from '../types';

export class LocalFolderSource implements FileSource {
  readonly description: string;
  private readonly root: string;
  private readonly handles = new Map<string, Promise<FileHandle>>();

  constructor(folder: string) {
    this.root = path.resolve(folder);
    this.description = this.root;
  }

  async size(file: string, signal?: AbortSignal): Promise<number | null> {
    signal?.throwIfAborted();
    const stats = await this.stat(this.resolve(file));
    return stats?.isFile() ? stats.size : null;
  }

  async read(file: string, offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    signal?.throwIfAborted();
    checkReadRange(file, offset, length);
    const handle = await this.handle(file);
    const bytes = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      signal?.throwIfAborted();
      const { bytesRead } = await handle.read(bytes, filled, length - filled, offset + filled).catch((error) => {
        throw this.failure(file, error);
      });
      if (bytesRead === 0) {
        throw new EngineError(
          'integrity-failed',
          `${file} ends at byte ${offset + filled}, before the requested range [${offset}, ${offset + length}): the file is truncated`,
          { file },
        );
      }
      filled += bytesRead;
    }
    return bytes;
  }

  async readText(file: string, signal?: AbortSignal): Promise<string | null> {
    signal?.throwIfAborted();
    const fullPath = this.resolve(file);
    const stats = await this.stat(fullPath);
    if (!stats?.isFile()) return null;
    if (stats.size > MAX_TEXT_BYTES) {
      throw new EngineError('bad-model', `${file} is ${stats.size} bytes, too large to be a config or index file`, { file });
    }
    return readFile(fullPath, { encoding: 'utf8', signal }).catch((error) => {
      throw this.failure(file, error);
    });
  }

  /** Closes every cached file handle; the source may still be used afterwards (handles reopen). */
  async close(): Promise<void> {
    const handles = [...this.handles.values()];
    this.handles.clear();
    const settled = await Promise.allSettled(handles);
    await Promise.all(settled.map((result) => (result.status === 'fulfilled' ? result.value.close() : undefined)));
  }

  /**
   * The absolute path of `file`, refusing names that leave the folder (`..`, absolute paths).
   * Lexical only, on purpose: a Hugging Face cache snapshot is a folder of symlinks into
   * `../../blobs/`, which must stay readable.
   */
  private resolve(file: string): string {
    const fullPath = path.resolve(this.root, file);
    const relative = path.relative(this.root, fullPath);
    if (
      file.length === 0 || file.includes('\0') || path.isAbsolute(file) || relative === '' ||
      relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)
    ) {
      throw new EngineError('bad-model', `file name ${JSON.stringify(file)} points outside the model folder ${this.root}`, {
        file,
      });
    }
    return fullPath;
  }

  private async stat(fullPath: string) {
    try {
      return await stat(fullPath);
    } catch (error) {
      if (isMissing(error)) return null;
      throw this.failure(fullPath, error);
    }
  }

  private handle(file: string): Promise<FileHandle> {
    const fullPath = this.resolve(file);
    let handle = this.handles.get(fullPath);
    if (!handle) {
      handle = open(fullPath, 'r').catch((error) => {
        this.handles.delete(fullPath);
        throw this.failure(file, error);
      });
      this.handles.set(fullPath, handle);
    }
    return handle;
  }

  /** An EngineError for a filesystem failure; a cancellation passes through as it is. */
  private failure(file: string, error: unknown): unknown {
    if ((error as Error | undefined)?.name === 'AbortError') return error;
    if (isMissing(error)) {
      return new EngineError('not-found', `${file} is not in ${this.root}`, { file }, { cause: error });
    }
    return new EngineError('bad-input', `cannot read ${file} in ${this.root}: ${errorCode(error)}`, { file }, { cause: error });
  }
}
