/**
 * Writes zip archives the way torch.save does (tests and fixtures only): PyTorchStreamWriter
 * (caffe2/serialize/inline_container.cc) over miniz with MZ_ZIP_FLAG_WRITE_ZIP64. Per entry: a
 * local header with flags 0x0808 (UTF-8 name, sizes in a data descriptor) and zero CRC, sizes
 * and timestamps; an `FB` extra field of 'Z' padding so the data starts on a 64-byte boundary
 * (detail::getPadding); the data; a data descriptor. Then the central directory, a Zip64 end of
 * central directory record and locator (always, because of the flag), and the classic EOCD.
 */

export interface ZipEntryToWrite {
  name: string;
  /** The entry's content (stored as is unless `deflated` is given). */
  data: Uint8Array;
  /** Raw deflate of `data`, written with method 8 instead (torch never does; tests do). */
  deflated?: Uint8Array;
}

export interface ZipWriteOptions {
  /** torch's kFieldAlignment. */
  alignment?: number;
  /**
   * Put every size and local header offset in Zip64 extra fields, as miniz does for entries
   * past 4 GiB, so that readers can be tested on that path without writing 4 GiB.
   */
  zip64Extras?: boolean;
}

const FLAGS = 0x0808;

export function writeZip(entries: ZipEntryToWrite[], options: ZipWriteOptions = {}): Uint8Array {
  const alignment = options.alignment ?? 64;
  const out = new ByteWriter();
  const central = new ByteWriter();
  const encoder = new TextEncoder();

  for (const entry of entries) {
    const name = encoder.encode(entry.name);
    const stored = entry.deflated ?? entry.data;
    const method = entry.deflated ? 8 : 0;
    const crc = crc32(entry.data);
    const localOffset = out.length;
    const dataStart = localOffset + 30 + name.length + 4;
    const padding = (alignment - (dataStart % alignment)) % alignment;

    out.u32(0x04034b50).u16(method ? 20 : 0).u16(FLAGS).u16(method).u16(0).u16(0);
    out.u32(0).u32(0).u32(0).u16(name.length).u16(4 + padding);
    out.bytes(name).bytes(encoder.encode('FB')).u16(padding).bytes(new Uint8Array(padding).fill(0x5a)); // 'Z'
    out.bytes(stored);
    out.u32(0x08074b50).u32(crc);
    if (options.zip64Extras) out.u64(stored.length).u64(entry.data.length);
    else out.u32(stored.length).u32(entry.data.length);

    const big = options.zip64Extras === true;
    central.u32(0x02014b50).u16(0).u16(method ? 20 : 0).u16(FLAGS).u16(method).u16(0).u16(0).u32(crc);
    central.u32(big ? 0xffffffff : stored.length).u32(big ? 0xffffffff : entry.data.length);
    central.u16(name.length).u16(big ? 28 : 0).u16(0).u16(0).u16(0).u32(0);
    central.u32(big ? 0xffffffff : localOffset).bytes(name);
    if (big) central.u16(0x0001).u16(24).u64(entry.data.length).u64(stored.length).u64(localOffset);
  }

  const directoryOffset = out.length;
  out.bytes(central.finish());
  const zip64RecordOffset = out.length;
  out.u32(0x06064b50).u64(44).u16(0x031e).u16(0x002d).u32(0).u32(0);
  out.u64(entries.length).u64(entries.length).u64(central.length).u64(directoryOffset);
  out.u32(0x07064b50).u32(0).u64(zip64RecordOffset).u32(1);
  out.u32(0x06054b50).u16(0).u16(0).u16(Math.min(entries.length, 0xffff)).u16(Math.min(entries.length, 0xffff));
  out.u32(central.length).u32(directoryOffset).u16(0);
  return out.finish();
}

/** A growable little-endian byte buffer. */
export class ByteWriter {
  private buffer = new Uint8Array(256);
  private view = new DataView(this.buffer.buffer);
  length = 0;

  private reserve(n: number): number {
    if (this.length + n > this.buffer.length) {
      const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.length + n));
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
      this.view = new DataView(grown.buffer);
    }
    const at = this.length;
    this.length += n;
    return at;
  }

  // reserve() may swap the buffer, so it runs before `this.buffer` or `this.view` is read.
  u8(value: number): this {
    const at = this.reserve(1);
    this.buffer[at] = value;
    return this;
  }
  u16(value: number): this {
    const at = this.reserve(2);
    this.view.setUint16(at, value, true);
    return this;
  }
  u32(value: number): this {
    const at = this.reserve(4);
    this.view.setUint32(at, value >>> 0, true);
    return this;
  }
  i32(value: number): this {
    const at = this.reserve(4);
    this.view.setInt32(at, value, true);
    return this;
  }
  u64(value: number): this {
    const at = this.reserve(8);
    this.view.setUint32(at, value % 2 ** 32, true);
    this.view.setUint32(at + 4, Math.floor(value / 2 ** 32), true);
    return this;
  }
  bytes(data: Uint8Array): this {
    const at = this.reserve(data.length);
    this.buffer.set(data, at);
    return this;
  }
  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, reflected 0xEDB88320), as zip stores it. */
export function crc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const byte of data) crc = crcTable[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
