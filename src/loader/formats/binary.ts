/**
 * Bounds-checked little-endian reads for the format parsers. Every parser reads through a
 * ByteCursor so that a truncated or lying file becomes a `bad-model` error naming the file,
 * never a RangeError or a silently short value.
 */

import { EngineError } from '../../errors';

export function badModel(message: string, detail?: Record<string, string | number | boolean>): EngineError {
  return new EngineError('bad-model', message, detail);
}

/** 2^53: above it a byte offset no longer fits a JS number exactly. */
const MAX_SAFE_HIGH_WORD = 0x1fffff;

export class ByteCursor {
  private readonly view: DataView;

  /** `what` names the bytes in messages, e.g. `pytorch_model.bin: central directory`. */
  constructor(
    readonly bytes: Uint8Array,
    readonly what: string,
    public at = 0,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.at;
  }

  /** Claims n bytes and returns where they start. */
  private claim(n: number): number {
    if (!(n >= 0 && n <= this.remaining)) {
      throw badModel(`${this.what} is truncated: needed ${n} bytes at offset ${this.at}, only ${this.remaining} left`);
    }
    const start = this.at;
    this.at += n;
    return start;
  }

  u8(): number {
    return this.bytes[this.claim(1)];
  }
  u16(): number {
    return this.view.getUint16(this.claim(2), true);
  }
  u32(): number {
    return this.view.getUint32(this.claim(4), true);
  }
  i32(): number {
    return this.view.getInt32(this.claim(4), true);
  }
  /** Unsigned 64-bit; values past 2^53 are rejected rather than rounded. */
  u64(): number {
    const start = this.claim(8);
    const low = this.view.getUint32(start, true);
    const high = this.view.getUint32(start + 4, true);
    if (high > MAX_SAFE_HIGH_WORD) {
      throw badModel(`${this.what}: 64-bit value at offset ${start} is too large to be a real size or offset`);
    }
    return high * 2 ** 32 + low;
  }
  /** Big-endian float64 (pickle's BINFLOAT). */
  f64BigEndian(): number {
    return this.view.getFloat64(this.claim(8), false);
  }
  /** A view (not a copy) of the next n bytes. */
  take(n: number): Uint8Array {
    const start = this.claim(n);
    return this.bytes.subarray(start, start + n);
  }
  skip(n: number): void {
    this.claim(n);
  }
}

/** Product of dimensions, or null when it is not a safe integer. */
export function elementCount(shape: readonly number[]): number | null {
  let count = 1;
  for (const dim of shape) {
    count *= dim;
    if (!Number.isSafeInteger(count)) return null;
  }
  return count;
}

export function isNonNegativeSafeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 text, or a `bad-model` error naming `what` when the bytes are not valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch (error) {
    throw new EngineError('bad-model', `${what} is not valid UTF-8 text`, undefined, { cause: error });
  }
}
