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
  /** CRC-32 with a running value (default: the table-driven one below; Node's zlib.crc32 is faster for gigabytes). */
  crc?: (data: Uint8Array, previous: number) => number;
}

const FLAGS = 0x0808;

export function writeZip(entries: ZipEntryToWrite[], options: ZipWriteOptions = {}): Uint8Array {
  const out = new ByteWriter();
  const zip = new ZipStream(options, (bytes) => void out.bytes(bytes));
  for (const entry of entries) {
    zip.begin(entry.name, entry.deflated ? 8 : 0);
    zip.data(entry.deflated ?? entry.data, entry.data);
    zip.end();
  }
  zip.finish();
  return out.finish();
}

/**
 * The same archive written as a stream, entry by entry and chunk by chunk (a test writes a
 * gigabyte checkpoint to disk this way without holding it): the local header carries no CRC
 * or sizes (flag 0x08), so each entry's data descriptor and the central directory give them.
 */
export class ZipStream {
  private readonly alignment: number;
  private readonly central = new ByteWriter();
  private readonly encoder = new TextEncoder();
  private length = 0;
  private count = 0;
  private entry: { name: Uint8Array; method: number; localOffset: number; crc: number; stored: number; size: number } | undefined;

  constructor(
    private readonly options: ZipWriteOptions,
    private readonly write: (bytes: Uint8Array) => void,
  ) {
    this.alignment = options.alignment ?? 64;
  }

  private emit(bytes: Uint8Array): void {
    this.write(bytes);
    this.length += bytes.length;
  }

  begin(entryName: string, method = 0): void {
    const name = this.encoder.encode(entryName);
    const localOffset = this.length;
    const dataStart = localOffset + 30 + name.length + 4;
    const padding = (this.alignment - (dataStart % this.alignment)) % this.alignment;
    const header = new ByteWriter();
    header.u32(0x04034b50).u16(method ? 20 : 0).u16(FLAGS).u16(method).u16(0).u16(0);
    header.u32(0).u32(0).u32(0).u16(name.length).u16(4 + padding);
    header.bytes(name).bytes(this.encoder.encode('FB')).u16(padding).bytes(new Uint8Array(padding).fill(0x5a)); // 'Z'
    this.emit(header.finish());
    this.entry = { name, method, localOffset, crc: 0, stored: 0, size: 0 };
  }

  /** Appends stored bytes; `plain` is what they decompress to (the same bytes when stored). */
  data(stored: Uint8Array, plain: Uint8Array = stored): void {
    const entry = this.entry!;
    this.emit(stored);
    entry.crc = (this.options.crc ?? crc32)(plain, entry.crc);
    entry.stored += stored.length;
    entry.size += plain.length;
  }

  end(): void {
    const { name, method, localOffset, crc, stored, size } = this.entry!;
    const big = this.options.zip64Extras === true;
    const descriptor = new ByteWriter().u32(0x08074b50).u32(crc);
    if (big) descriptor.u64(stored).u64(size);
    else descriptor.u32(stored).u32(size);
    this.emit(descriptor.finish());
    const central = this.central;
    central.u32(0x02014b50).u16(0).u16(method ? 20 : 0).u16(FLAGS).u16(method).u16(0).u16(0).u32(crc);
    central.u32(big ? 0xffffffff : stored).u32(big ? 0xffffffff : size);
    central.u16(name.length).u16(big ? 28 : 0).u16(0).u16(0).u16(0).u32(0);
    central.u32(big ? 0xffffffff : localOffset).bytes(name);
    if (big) central.u16(0x0001).u16(24).u64(size).u64(stored).u64(localOffset);
    this.entry = undefined;
    this.count++;
  }

  /** The central directory, the Zip64 end record and locator, and the classic end record. */
  finish(): void {
    const directoryOffset = this.length;
    const directory = this.central.finish();
    const out = new ByteWriter().bytes(directory);
    const zip64RecordOffset = directoryOffset + directory.length;
    out.u32(0x06064b50).u64(44).u16(0x031e).u16(0x002d).u32(0).u32(0);
    out.u64(this.count).u64(this.count).u64(directory.length).u64(directoryOffset);
    out.u32(0x07064b50).u32(0).u64(zip64RecordOffset).u32(1);
    out.u32(0x06054b50).u16(0).u16(0).u16(Math.min(this.count, 0xffff)).u16(Math.min(this.count, 0xffff));
    out.u32(directory.length).u32(directoryOffset).u16(0);
    this.emit(out.finish());
  }
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

/** CRC-32 (IEEE 802.3, reflected 0xEDB88320), as zip stores it; `previous` continues an earlier part's. */
export function crc32(data: Uint8Array, previous = 0): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = (previous ^ 0xffffffff) >>> 0;
  for (const byte of data) crc = crcTable[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
