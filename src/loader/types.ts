/**
 * What the loader hands the model: where each tensor's bytes are, never the bytes themselves.
 * Formats (safetensors, torch zip) turn file headers into TensorRecords; sources (local folder,
 * hub) serve byte ranges of files. The model streams each record's range in bounded chunks.
 */

import { EngineError } from '../errors';

/** Element types a checkpoint may store; anything else is a `bad-model` error. */
export type SourceDtype = 'F32' | 'F16' | 'BF16';

export const SOURCE_DTYPE_BYTES: Record<SourceDtype, number> = { F32: 4, F16: 2, BF16: 2 };

export interface TensorRecord {
  /** Hub tensor name, e.g. `model.layers.0.self_attn.q_proj.weight`. */
  name: string;
  dtype: SourceDtype;
  /** Row-major, outermost first (PyTorch order). */
  shape: number[];
  /** File inside the repo that holds the bytes. */
  file: string;
  /** Absolute byte offset of the first element inside `file`. */
  offset: number;
  /** Number of bytes: product(shape) * element size. Contiguous. */
  byteLength: number;
}

/** A repo's files, by name, readable by byte range. */
export interface FileSource {
  /** Human-readable identity for messages, e.g. `org/name@main` or a folder path. */
  readonly description: string;
  /** Size in bytes, or null when the file does not exist. */
  size(file: string, signal?: AbortSignal): Promise<number | null>;
  /** Bytes [offset, offset + length) of `file`; a short or failed read is an error, never a short array. */
  read(file: string, offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array>;
  /** Whole small file as text, or null when it does not exist. At most MAX_TEXT_BYTES. */
  readText(file: string, signal?: AbortSignal): Promise<string | null>;
}

/** The checks every FileSource.read makes first: a range of whole, non-negative numbers. */
export function checkReadRange(file: string, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new EngineError('internal', `read of ${file} with invalid range (offset ${offset}, length ${length})`);
  }
}

/** A read of a file whose size is known must lie within it. */
export function checkWithinFile(file: string, size: number, offset: number, length: number): void {
  if (offset + length > size) {
    throw new EngineError('integrity-failed', `${file} is ${size} bytes long; bytes [${offset}, ${offset + length}) were asked for`, { file });
  }
}

/** `a/b.safetensors` yes; `/x`, `../x`, `a//b`, `a\\b` no: a file name must not reach outside the repo. */
export function isPlainRelativePath(path: string): boolean {
  return path.length > 0 && !path.includes('\\') && path.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

/** readText is for config, tokenizer and index files; a larger "text" file is a mistake, not something to load. */
export const MAX_TEXT_BYTES = 64 * 1024 * 1024;
