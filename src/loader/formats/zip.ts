/**
 * Read-only zip over a FileSource that reads the archive's tail and central directory, never
 * the whole file. Spec: PKWARE APPNOTE.TXT 6.3.x: end of central directory record (4.3.16),
 * Zip64 end of central directory record and locator (4.3.14, 4.3.15), central directory file
 * header (4.3.12), local file header (4.3.7), Zip64 extended information extra field (4.5.3).
 * torch.save writes through miniz with MZ_ZIP_FLAG_WRITE_ZIP64, so every torch checkpoint has
 * the Zip64 record and locator, and entries past 4 GiB carry their sizes in Zip64 extras.
 */

import { isEngineError } from '../../errors';
import type { FileSource } from '../types';
import { ByteCursor, badModel, decodeUtf8 } from './binary';

const EOCD_SIGNATURE = 0x06054b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_LOCATOR_SIZE = 20;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const ZIP64_EOCD_SIZE = 56;
const CENTRAL_HEADER_SIGNATURE = 0x02014b50;
const CENTRAL_HEADER_SIZE = 46;
const LOCAL_HEADER_SIGNATURE = 0x04034b50;
const LOCAL_HEADER_SIZE = 30;
const ZIP64_EXTRA_ID = 0x0001;
/** A checkpoint's directory is a few hundred entries; this only stops absurd allocations. */
const MAX_CENTRAL_DIRECTORY_BYTES = 64 * 1024 * 1024;

export const ZIP_METHOD_STORED = 0;
export const ZIP_METHOD_DEFLATE = 8;

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflate; anything else cannot be read. */
  method: number;
  /** General purpose bit flags; bit 0 means encrypted. */
  flags: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
}

export class ZipArchive {
  private readonly dataOffsets = new Map<ZipEntry, number>();
  private readonly byName: Map<string, ZipEntry>;

  private constructor(
    private readonly source: FileSource,
    readonly file: string,
    readonly entries: readonly ZipEntry[],
    /** Where the central directory starts: every entry's bytes lie before it. */
    private readonly centralDirectoryOffset: number,
  ) {
    this.byName = new Map(entries.map((entry) => [entry.name, entry]));
  }

  static async open(source: FileSource, file: string, signal?: AbortSignal): Promise<ZipArchive> {
    const fileSize = await source.size(file, signal);
    if (fileSize === null) throw badModel(`${file} is missing from ${source.description}`, { file });
    if (fileSize < EOCD_SIZE) throw badModel(`${file} is not a zip archive: only ${fileSize} bytes`, { file });

    // The EOCD record ends the file, followed only by a comment of at most 64 KiB; the Zip64
    // locator sits right before it, so one tail read covers both.
    const tailLength = Math.min(fileSize, EOCD_SIZE + MAX_COMMENT + ZIP64_LOCATOR_SIZE);
    const tailStart = fileSize - tailLength;
    const tail = await source.read(file, tailStart, tailLength, signal);
    const eocdInTail = findEndOfCentralDirectory(tail);
    if (eocdInTail < 0) {
      throw badModel(`${file} is not a zip archive (no end of central directory record): truncated or not a checkpoint`, {
        file,
      });
    }
    const eocd = new ByteCursor(tail, `${file}: end of central directory`, eocdInTail + 4);
    const diskNumber = eocd.u16();
    const centralDirectoryDisk = eocd.u16();
    eocd.skip(2); // entries on this disk
    let entryCount = eocd.u16();
    let directorySize = eocd.u32();
    let directoryOffset = eocd.u32();
    let directoryEnd = tailStart + eocdInTail;

    const locatorInTail = eocdInTail - ZIP64_LOCATOR_SIZE;
    if (locatorInTail >= 0 && new ByteCursor(tail, file, locatorInTail).u32() === ZIP64_LOCATOR_SIGNATURE) {
      const locator = new ByteCursor(tail, `${file}: zip64 locator`, locatorInTail + 8);
      const zip64Offset = locator.u64();
      const totalDisks = locator.u32();
      if (totalDisks > 1) throw badModel(`${file} is a multi-volume zip archive, which is not supported`, { file });
      if (zip64Offset + ZIP64_EOCD_SIZE > tailStart + locatorInTail) {
        throw badModel(`${file}: zip64 end of central directory record lies outside the file`, { file });
      }
      const record = new ByteCursor(
        await source.read(file, zip64Offset, ZIP64_EOCD_SIZE, signal),
        `${file}: zip64 end of central directory`,
      );
      if (record.u32() !== ZIP64_EOCD_SIGNATURE) {
        throw badModel(`${file}: zip64 locator does not point at a zip64 end of central directory record`, { file });
      }
      record.skip(8 + 2 + 2 + 4 + 4 + 8); // record size, versions, disk numbers, entries on this disk
      entryCount = record.u64();
      directorySize = record.u64();
      directoryOffset = record.u64();
      directoryEnd = zip64Offset;
    } else if (entryCount === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) {
      throw badModel(`${file}: zip needs zip64 fields but has no zip64 locator; the archive is corrupt`, { file });
    } else if (diskNumber !== 0 || centralDirectoryDisk !== 0) {
      throw badModel(`${file} is a multi-volume zip archive, which is not supported`, { file });
    }

    if (directoryOffset + directorySize > directoryEnd) {
      throw badModel(`${file}: central directory [${directoryOffset}, +${directorySize}) lies outside the archive; truncated?`, {
        file,
      });
    }
    if (directorySize > MAX_CENTRAL_DIRECTORY_BYTES || entryCount * CENTRAL_HEADER_SIZE > directorySize) {
      throw badModel(`${file}: central directory claims ${entryCount} entries in ${directorySize} bytes; corrupt`, { file });
    }
    const directory = new ByteCursor(
      await source.read(file, directoryOffset, directorySize, signal),
      `${file}: central directory`,
    );
    const entries: ZipEntry[] = [];
    for (let i = 0; i < entryCount; i++) entries.push(readCentralHeader(directory, file, directoryOffset));
    return new ZipArchive(source, file, entries, directoryOffset);
  }

  find(name: string): ZipEntry | undefined {
    return this.byName.get(name);
  }

  /** Absolute offset of the entry's first data byte: its local header has its own name and extra lengths. */
  async dataOffset(entry: ZipEntry, signal?: AbortSignal): Promise<number> {
    const cached = this.dataOffsets.get(entry);
    if (cached !== undefined) return cached;
    const nameBytes = new TextEncoder().encode(entry.name);
    const header = new ByteCursor(
      await this.source.read(this.file, entry.localHeaderOffset, LOCAL_HEADER_SIZE + nameBytes.length, signal),
      `${this.file}: local header of ${entry.name}`,
    );
    if (header.u32() !== LOCAL_HEADER_SIGNATURE) {
      throw badModel(`${this.file}: entry ${entry.name} does not start with a local file header; corrupt`, { file: this.file });
    }
    header.skip(22);
    const nameLength = header.u16();
    const extraLength = header.u16();
    const localName = header.take(Math.min(nameLength, nameBytes.length));
    if (nameLength !== nameBytes.length || !localName.every((byte, i) => byte === nameBytes[i])) {
      throw badModel(`${this.file}: local header of ${entry.name} names a different file; corrupt`, { file: this.file });
    }
    const start = entry.localHeaderOffset + LOCAL_HEADER_SIZE + nameLength + extraLength;
    if (start + entry.compressedSize > this.centralDirectoryOffset) {
      throw badModel(`${this.file}: data of ${entry.name} runs into the central directory; corrupt`, { file: this.file });
    }
    this.dataOffsets.set(entry, start);
    return start;
  }

  /** The whole entry, inflated if need be; refuses entries over maxBytes before reading them. */
  async readEntry(entry: ZipEntry, maxBytes: number, signal?: AbortSignal): Promise<Uint8Array> {
    const what = `${this.file}: ${entry.name}`;
    if (entry.uncompressedSize > maxBytes || entry.compressedSize > maxBytes) {
      throw badModel(`${what} is ${entry.uncompressedSize} bytes, more than the ${maxBytes} this loader accepts`, {
        file: this.file,
      });
    }
    if (entry.flags & 1) throw badModel(`${what} is encrypted`, { file: this.file });
    const start = await this.dataOffset(entry, signal);
    const stored = await this.source.read(this.file, start, entry.compressedSize, signal);
    if (entry.method === ZIP_METHOD_STORED) {
      if (entry.compressedSize !== entry.uncompressedSize) {
        throw badModel(`${what} is stored but its sizes differ; corrupt`, { file: this.file });
      }
      return stored;
    }
    if (entry.method === ZIP_METHOD_DEFLATE) return inflateRaw(stored, entry.uncompressedSize, what);
    throw badModel(`${what} uses zip compression method ${entry.method}; only stored and deflate are supported`, {
      file: this.file,
    });
  }
}

/** Scans backwards for the EOCD signature whose comment length ends exactly at the tail's end. */
function findEndOfCentralDirectory(tail: Uint8Array): number {
  const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  for (let at = tail.length - EOCD_SIZE; at >= 0; at--) {
    if (view.getUint32(at, true) === EOCD_SIGNATURE && at + EOCD_SIZE + view.getUint16(at + 20, true) === tail.length) {
      return at;
    }
  }
  return -1;
}

function readCentralHeader(directory: ByteCursor, file: string, directoryOffset: number): ZipEntry {
  const headerAt = directory.at;
  if (directory.u32() !== CENTRAL_HEADER_SIGNATURE) {
    throw badModel(`${file}: central directory entry at offset ${directoryOffset + headerAt} is corrupt`, { file });
  }
  directory.skip(4); // versions
  const flags = directory.u16();
  const method = directory.u16();
  directory.skip(8); // time, date, crc
  let compressedSize = directory.u32();
  let uncompressedSize = directory.u32();
  const nameLength = directory.u16();
  const extraLength = directory.u16();
  const commentLength = directory.u16();
  const startDisk = directory.u16();
  directory.skip(6); // attributes
  let localHeaderOffset = directory.u32();
  const name = decodeUtf8(directory.take(nameLength), `${file}: an entry name`);
  const extra = new ByteCursor(directory.take(extraLength), `${file}: extra field of ${name}`);
  directory.skip(commentLength);

  // Zip64 extra: only the fields whose 32-bit slot holds 0xFFFFFFFF are present, in this order.
  while (extra.remaining >= 4) {
    const id = extra.u16();
    const field = new ByteCursor(extra.take(extra.u16()), `${file}: zip64 extra field of ${name}`);
    if (id !== ZIP64_EXTRA_ID) continue;
    if (uncompressedSize === 0xffffffff) uncompressedSize = field.u64();
    if (compressedSize === 0xffffffff) compressedSize = field.u64();
    if (localHeaderOffset === 0xffffffff) localHeaderOffset = field.u64();
  }
  if (startDisk !== 0 && startDisk !== 0xffff) throw badModel(`${file}: ${name} is on another volume`, { file });
  if (localHeaderOffset + LOCAL_HEADER_SIZE + nameLength + compressedSize > directoryOffset) {
    throw badModel(`${file}: entry ${name} lies outside the archive (truncated?)`, { file });
  }
  return { name, method, flags, compressedSize, uncompressedSize, localHeaderOffset };
}

/** deflate-raw through the platform's DecompressionStream (browsers, Node 18+), bounded by the declared size. */
async function inflateRaw(compressed: Uint8Array, expectedSize: number, what: string): Promise<Uint8Array> {
  if (typeof DecompressionStream === 'undefined') {
    throw badModel(`${what} is deflate-compressed and this runtime has no DecompressionStream to inflate it`);
  }
  const output = new Uint8Array(expectedSize);
  let filled = 0;
  try {
    const input = new ReadableStream<BufferSource>({
      start(controller) {
        controller.enqueue(compressed as Uint8Array<ArrayBuffer>); // sources never hand out shared memory
        controller.close();
      },
    });
    const reader = input.pipeThrough(new DecompressionStream('deflate-raw')).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (filled + value.length > expectedSize) {
        await reader.cancel();
        throw badModel(`${what} inflates to more than its declared ${expectedSize} bytes; corrupt`);
      }
      output.set(value, filled);
      filled += value.length;
    }
  } catch (error) {
    if (isEngineError(error)) throw error;
    throw badModel(`${what} is not valid deflate data (${(error as Error).message})`);
  }
  if (filled !== expectedSize) throw badModel(`${what} inflates to ${filled} bytes, not the declared ${expectedSize}`);
  return output;
}
