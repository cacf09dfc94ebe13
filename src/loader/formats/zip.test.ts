import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../errors';
import { MemorySource } from '../sources/memory-source';
import { RecordingSource, expectBadModel, randomBytes, seededRandom } from '../testing/test-support';
import type { FileSource } from '../types';
import { ZipArchive } from './zip';
import { crc32, writeZip, type ZipEntryToWrite } from '../testing/zip-writer';

const FILE = 'archive.zip';
const text = (value: string) => new TextEncoder().encode(value);


const ENTRIES: ZipEntryToWrite[] = [
  { name: 'archive/data.pkl', data: randomBytes(301, 1) },
  { name: 'archive/data/0', data: randomBytes(4096, 2) },
  { name: 'archive/data/1', data: new Uint8Array(0) },
  { name: 'archive/version', data: text('3\n') },
];

const open = (bytes: Uint8Array, source: FileSource = new MemorySource(new Map([[FILE, bytes]]))) =>
  ZipArchive.open(source, FILE);

async function expectEntries(bytes: Uint8Array, entries: ZipEntryToWrite[]): Promise<void> {
  const zip = await open(bytes);
  expect(zip.entries.map((entry) => entry.name)).toEqual(entries.map((entry) => entry.name));
  for (const written of entries) {
    const entry = zip.find(written.name);
    expect(entry).toBeDefined();
    expect(await zip.readEntry(entry!, 1 << 20)).toEqual(written.data);
    const offset = await zip.dataOffset(entry!);
    if (!written.deflated) expect(bytes.subarray(offset, offset + written.data.length)).toEqual(written.data);
  }
}

/** Offset of the classic end of central directory record (the writer adds no comment). */
const eocdOffset = (bytes: Uint8Array) => bytes.length - 22;

describe('ZipArchive', () => {
  it('reads what the torch-style writer writes, data 64-byte aligned', async () => {
    const bytes = writeZip(ENTRIES);
    await expectEntries(bytes, ENTRIES);
    const zip = await open(bytes);
    for (const entry of zip.entries) expect((await zip.dataOffset(entry)) % 64).toBe(0);
  });

  it('reads sizes and offsets from Zip64 extra fields', async () => {
    const bytes = writeZip(ENTRIES, { zip64Extras: true });
    const view = new DataView(bytes.buffer);
    const directoryOffset = view.getUint32(eocdOffset(bytes) + 16, true);
    expect(view.getUint32(directoryOffset + 20, true)).toBe(0xffffffff); // sizes live in the extra field
    await expectEntries(bytes, ENTRIES);
  });

  it('reads archives without the Zip64 record, as other writers make them', async () => {
    const bytes = writeZip(ENTRIES);
    // Drop the Zip64 record and locator (56 + 20 bytes) that sit between directory and EOCD.
    const withoutZip64 = new Uint8Array(bytes.length - 76);
    withoutZip64.set(bytes.subarray(0, eocdOffset(bytes) - 76));
    withoutZip64.set(bytes.subarray(eocdOffset(bytes)), eocdOffset(bytes) - 76);
    await expectEntries(withoutZip64, ENTRIES);
  });

  it('finds the end record behind an archive comment', async () => {
    const bytes = writeZip(ENTRIES);
    const comment = text('PK\x05\x06 a comment that looks like a signature');
    const withComment = new Uint8Array(bytes.length + comment.length);
    withComment.set(bytes);
    withComment.set(comment, bytes.length);
    new DataView(withComment.buffer).setUint16(eocdOffset(bytes) + 20, comment.length, true);
    await expectEntries(withComment, ENTRIES);
  });

  it('inflates deflated entries', async () => {
    const data = text('collections OrderedDict '.repeat(50));
    const entries = [{ name: 'a/data.pkl', data, deflated: new Uint8Array(deflateRawSync(data)) }];
    await expectEntries(writeZip(entries), entries);
  });

  it('reads the directory from the tail, not the whole archive', async () => {
    const bytes = writeZip([{ name: 'a/data/0', data: new Uint8Array(4 << 20) }, ...ENTRIES]);
    const source = new RecordingSource(new MemorySource(new Map([[FILE, bytes]])));
    const zip = await open(bytes, source);
    await zip.dataOffset(zip.entries[0]);
    expect(source.bytesRead).toBeLessThan(70_000);
  });

  it('computes the CRC-32 zip stores', () => {
    expect(crc32(text('123456789'))).toBe(0xcbf43926);
  });

  it('rejects files that are not zip archives', async () => {
    await expectBadModel(() => open(randomBytes(10, 3)), /not a zip archive: only 10 bytes/);
    await expectBadModel(() => open(randomBytes(100_000, 3)), /no end of central directory record/);
  });

  it('rejects truncated archives', async () => {
    const bytes = writeZip(ENTRIES);
    for (const length of [bytes.length - 1, bytes.length - 30, Math.floor(bytes.length / 2), 100]) {
      await expectBadModel(() => open(bytes.slice(0, length)), /not a zip archive|truncated|outside/);
    }
  });

  it('rejects a central directory outside the archive', async () => {
    const bytes = writeZip(ENTRIES);
    const view = new DataView(bytes.buffer);
    const zip64Record = view.getUint32(eocdOffset(bytes) - 20 + 8, true);
    view.setUint32(zip64Record + 48, bytes.length, true);
    await expectBadModel(() => open(bytes), /central directory .* lies outside the archive/);
  });

  it('rejects a Zip64 locator that points at garbage', async () => {
    const bytes = writeZip(ENTRIES);
    new DataView(bytes.buffer).setUint32(eocdOffset(bytes) - 20 + 8, 3, true);
    await expectBadModel(() => open(bytes), /zip64 locator does not point at a zip64 end of central directory/);
  });

  it('rejects Zip64 markers without a locator', async () => {
    const bytes = writeZip(ENTRIES);
    const view = new DataView(bytes.buffer);
    view.setUint32(eocdOffset(bytes) - 20, 0, true); // break the locator signature
    view.setUint32(eocdOffset(bytes) + 16, 0xffffffff, true);
    await expectBadModel(() => open(bytes), /needs zip64 fields but has no zip64 locator/);
  });

  it('rejects an entry whose local header is missing', async () => {
    const bytes = writeZip(ENTRIES);
    bytes[0] = 0; // the first local header's signature
    const zip = await open(bytes);
    await expectBadModel(() => zip.dataOffset(zip.entries[0]), /does not start with a local file header/);
  });

  it('rejects entries larger than the caller accepts, encrypted or corrupt deflate data', async () => {
    const zip = await open(writeZip(ENTRIES));
    await expectBadModel(() => zip.readEntry(zip.entries[1], 100), /4096 bytes, more than the 100/);

    const encrypted = writeZip(ENTRIES);
    const view = new DataView(encrypted.buffer);
    const directoryOffset = view.getUint32(eocdOffset(encrypted) + 16, true);
    view.setUint16(directoryOffset + 8, 0x0809, true);
    const encryptedZip = await open(encrypted);
    await expectBadModel(() => encryptedZip.readEntry(encryptedZip.entries[0], 1 << 20), /is encrypted/);

    const data = text('hello hello hello hello');
    const corrupt = new Uint8Array(deflateRawSync(data));
    corrupt[0] ^= 0xff;
    const corruptZip = await open(writeZip([{ name: 'a/data.pkl', data, deflated: corrupt }]));
    await expectBadModel(() => corruptZip.readEntry(corruptZip.entries[0], 1 << 20), /not valid deflate data|inflates/);

    const lying = await open(writeZip([{ name: 'a/data.pkl', data: data.subarray(0, 5), deflated: new Uint8Array(deflateRawSync(data)) }]));
    await expectBadModel(() => lying.readEntry(lying.entries[0], 1 << 20), /inflates to more than its declared 5 bytes/);
  });

  it('never throws anything but bad-model on a corrupted directory', async () => {
    const original = writeZip(ENTRIES);
    const random = seededRandom(7);
    const directoryStart = new DataView(original.buffer).getUint32(eocdOffset(original) + 16, true);
    for (let trial = 0; trial < 500; trial++) {
      const bytes = original.slice();
      for (let i = 0; i < 3; i++) {
        const at = directoryStart + Math.floor(random() * (bytes.length - directoryStart));
        bytes[at] = Math.floor(random() * 256);
      }
      let failure: unknown = null;
      try {
        const zip = await open(bytes);
        for (const entry of zip.entries) await zip.readEntry(entry, 1 << 20);
      } catch (error) {
        failure = error;
      }
      if (failure !== null && !(failure instanceof EngineError && failure.code === 'bad-model')) {
        expect.fail(`trial ${trial}: ${String(failure)}`);
      }
    }
  });
});
