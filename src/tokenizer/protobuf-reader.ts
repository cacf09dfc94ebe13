/**
 * A minimal protobuf wire-format reader: just what sentencepiece's ModelProto needs (varints,
 * 32-bit floats, strings, nested messages) and skipping of everything else. Every read checks
 * its bounds and every step consumes bytes, so any input ends, in a value or a 'bad-model' error.
 */
import { EngineError } from '../errors';

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LENGTH_DELIMITED = 2;
export const WIRE_FIXED32 = 5;

/** Reads one message: the bytes [start, end). `what` names it in error messages. */
export class ProtoReader {
  private position: number;
  private readonly view: DataView;
  // ignoreBOM: piece 30143 of LLaMA is U+FEFF itself, which a default TextDecoder would drop.
  private static readonly utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

  constructor(
    private readonly bytes: Uint8Array,
    start: number,
    private readonly end: number,
    private readonly what: string,
    private readonly fail: (message: string) => EngineError,
  ) {
    this.position = start;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get done(): boolean {
    return this.position >= this.end;
  }

  /** A varint's low 32 bits (unsigned) and its whole value (exact below 2^53, where lengths live). */
  private varint(): { low: number; whole: number } {
    let whole = 0;
    let low = 0;
    for (let index = 0; ; index++) {
      if (this.position >= this.end) throw this.fail(`${this.what} ends inside a varint.`);
      if (index === 10) throw this.fail(`${this.what} has a varint longer than 10 bytes.`);
      const byte = this.bytes[this.position++];
      const part = (byte & 0x7f) * 2 ** (7 * index);
      whole += part;
      if (index < 5) low += part; // bytes past the fifth only carry bits 35 and up
      if ((byte & 0x80) === 0) return { low: low % 2 ** 32, whole };
    }
  }

  /** int32 and enum fields: negative values are sign-extended to 64 bits on the wire. */
  int32(): number {
    return this.varint().low | 0;
  }

  bool(): boolean {
    return this.varint().whole !== 0;
  }

  float(): number {
    if (this.end - this.position < 4) throw this.fail(`${this.what} ends inside a float.`);
    const value = this.view.getFloat32(this.position, true);
    this.position += 4;
    return value;
  }

  /** Returns the [start, end) of a length-delimited field and steps past it. */
  span(): [number, number] {
    const length = this.varint().whole;
    if (length > this.end - this.position) {
      throw this.fail(`${this.what} has a field of ${length} bytes where only ${this.end - this.position} remain.`);
    }
    const start = this.position;
    this.position += length;
    return [start, this.position];
  }

  string(): string {
    const [start, end] = this.span();
    try {
      return ProtoReader.utf8.decode(this.bytes.subarray(start, end));
    } catch (error) {
      const failure = this.fail(`${this.what} has a string that is not UTF-8.`);
      throw new EngineError(failure.code, failure.message, undefined, { cause: error });
    }
  }

  message(what: string): ProtoReader {
    const [start, end] = this.span();
    return new ProtoReader(this.bytes, start, end, what, this.fail);
  }

  tag(): { field: number; wireType: number } {
    const tag = this.varint().whole;
    const field = Math.floor(tag / 8);
    if (field === 0) throw this.fail(`${this.what} has a field numbered 0; the file is not a sentencepiece model.`);
    return { field, wireType: tag % 8 };
  }

  /** Fails where a known field arrives with another wire type than its declared one. */
  expect(wireType: number, actual: number, field: string): void {
    if (wireType !== actual) throw this.fail(`${this.what}.${field} has wire type ${actual}, expected ${wireType}.`);
  }

  skip(wireType: number): void {
    if (wireType === WIRE_VARINT) this.varint();
    else if (wireType === WIRE_LENGTH_DELIMITED) this.span();
    else if (wireType === WIRE_FIXED64 || wireType === WIRE_FIXED32) {
      const size = wireType === WIRE_FIXED64 ? 8 : 4;
      if (this.end - this.position < size) throw this.fail(`${this.what} ends inside a fixed-size field.`);
      this.position += size;
    } else {
      // 3 and 4 are proto2 groups, which no sentencepiece message uses; 6 and 7 do not exist.
      throw this.fail(`${this.what} has wire type ${wireType}; the file is not a sentencepiece model.`);
    }
  }
}
