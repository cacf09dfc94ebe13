/**
 * Helpers for the loader's tests (imported by *.test.ts only): seeded tensors and bytes, a source
 * that records what was read, and assertions for EngineErrors.
 */

import { expect } from 'vitest';
import { seededRandom } from '../../seeded-random';
import { EngineError } from '../../errors';
import { f32ToBf16Bits, f32ToF16Bits } from '../dtype';
import type { TensorToEncode } from '../formats/safetensors';
import { SOURCE_DTYPE_BYTES, type FileSource, type SourceDtype } from '../types';

export { seededRandom } from '../../seeded-random';

/** A tensor of seeded values in [-1, 1) (never all zeros), encoded little-endian in `dtype`. */
export function randomTensor(name: string, dtype: SourceDtype, shape: number[], seed: number): TensorToEncode {
  const random = seededRandom(seed);
  const count = shape.reduce((a, b) => a * b, 1);
  const data = new Uint8Array(count * SOURCE_DTYPE_BYTES[dtype]);
  const view = new DataView(data.buffer);
  for (let i = 0; i < count; i++) {
    const value = random() * 2 - 1;
    if (dtype === 'F32') view.setFloat32(i * 4, value, true);
    else view.setUint16(i * 2, dtype === 'F16' ? f32ToF16Bits(value) : f32ToBf16Bits(value), true);
  }
  return { name, dtype, shape, data };
}

/** Wraps a source and records every read, to check that headers are read in small pieces. */
export class RecordingSource implements FileSource {
  readonly reads: { file: string; offset: number; length: number }[] = [];
  constructor(private readonly inner: FileSource) {}
  get description(): string {
    return this.inner.description;
  }
  get bytesRead(): number {
    return this.reads.reduce((total, read) => total + read.length, 0);
  }
  size(file: string, signal?: AbortSignal) {
    return this.inner.size(file, signal);
  }
  read(file: string, offset: number, length: number, signal?: AbortSignal) {
    this.reads.push({ file, offset, length });
    return this.inner.read(file, offset, length, signal);
  }
  readText(file: string, signal?: AbortSignal) {
    return this.inner.readText(file, signal);
  }
}

/** Seeded random bytes. */
export function randomBytes(length: number, seed: number): Uint8Array {
  const random = seededRandom(seed);
  return Uint8Array.from({ length }, () => Math.floor(random() * 256));
}

/** Byte-for-byte equality of two views. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

/** Reads 20 seeded random ranges of `file` and asserts each equals the same range of `expected`. */
export async function expectRandomReads(source: FileSource, file: string, expected: Uint8Array, seed: number): Promise<void> {
  const random = seededRandom(seed);
  for (let i = 0; i < 20; i++) {
    const offset = Math.floor(random() * expected.length);
    const length = Math.floor(random() * (expected.length - offset));
    expect(sameBytes(await source.read(file, offset, length), expected.subarray(offset, offset + length))).toBe(true);
  }
}

/** Awaits `promise` and asserts it rejected with an EngineError of `code` (and `message`). */
export async function expectCode(promise: Promise<unknown>, code: string, message?: RegExp): Promise<EngineError> {
  const error = await promise.then(
    () => expect.fail(`expected ${code}`),
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(EngineError);
  expect((error as EngineError).code).toBe(code);
  if (message) expect((error as EngineError).message).toMatch(message);
  return error as EngineError;
}

/** Runs `action` and asserts it failed with EngineError('bad-model') whose message matches. */
export async function expectBadModel(action: () => unknown, message: RegExp): Promise<EngineError> {
  let failure: unknown = undefined;
  try {
    await action();
  } catch (error) {
    failure = error;
  }
  expect(failure, 'expected a bad-model error').toBeInstanceOf(EngineError);
  expect((failure as EngineError).code).toBe('bad-model');
  expect((failure as EngineError).message).toMatch(message);
  return failure as EngineError;
}
