import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../errors';
import { MemorySource } from '../sources/memory-source';
import { RecordingSource, expectBadModel, randomTensor, seededRandom } from '../testing/test-support';
import type { TensorRecord } from '../types';
import type { TensorToEncode } from './safetensors';
import { encodeTorchZip } from '../testing/torch-zip-writer';
import { isContiguous, readTorchZipHeader } from './torch-zip';
import { ZipArchive } from './zip';
import { writeZip, type ZipEntryToWrite } from '../testing/zip-writer';

const FILE = 'pytorch_model.bin';
const sourceWith = (bytes: Uint8Array) => new MemorySource(new Map([[FILE, bytes]]));
const read = (bytes: Uint8Array) => () => readTorchZipHeader(sourceWith(bytes), FILE);
/** Pickle bytes written as a string of latin-1 characters. */
const latin1 = (text: string) => Uint8Array.from(text, (char) => char.charCodeAt(0));

const TENSORS: TensorToEncode[] = [
  randomTensor('model.embed_tokens.weight', 'F16', [11, 6], 1),
  randomTensor('model.layers.0.input_layernorm.weight', 'F32', [6], 2),
  randomTensor('model.layers.0.self_attn.q_proj.weight', 'BF16', [6, 6], 3),
  randomTensor('model.norm.weight', 'F32', [6], 4),
  randomTensor('lm_head.weight', 'F16', [11, 6], 5),
  randomTensor('scalar', 'F32', [], 6),
];

function expectRecordsMatch(bytes: Uint8Array, records: TensorRecord[], tensors: TensorToEncode[]): void {
  expect(records.map(({ name, dtype, shape, file }) => ({ name, dtype, shape, file }))).toEqual(
    tensors.map(({ name, dtype, shape }) => ({ name, dtype, shape, file: FILE })),
  );
  for (const [i, record] of records.entries()) {
    expect(record.byteLength).toBe(tensors[i].data.length);
    expect(bytes.slice(record.offset, record.offset + record.byteLength)).toEqual(tensors[i].data);
  }
}

/** The zip's entries, to rebuild variants of a valid checkpoint. */
async function entriesOf(bytes: Uint8Array): Promise<ZipEntryToWrite[]> {
  const zip = await ZipArchive.open(sourceWith(bytes), FILE);
  return Promise.all(zip.entries.map(async (entry) => ({ name: entry.name, data: await zip.readEntry(entry, 1 << 24) })));
}

describe('torch zip checkpoints', () => {
  it.each(['archive', 'pytorch_model', 'checkpoint-1000 (copy)'])('round-trips tensors in a top folder named %s', async (archiveName) => {
    const bytes = encodeTorchZip(TENSORS, { archiveName });
    expectRecordsMatch(bytes, await readTorchZipHeader(sourceWith(bytes), FILE), TENSORS);
  });

  it('writes the layout torch.save writes', async () => {
    const bytes = encodeTorchZip(TENSORS);
    const zip = await ZipArchive.open(sourceWith(bytes), FILE);
    expect(zip.entries.map((entry) => entry.name)).toEqual([
      'archive/data.pkl',
      'archive/.format_version',
      'archive/.storage_alignment',
      'archive/byteorder',
      ...TENSORS.map((_, key) => `archive/data/${key}`),
      'archive/version',
      'archive/.data/serialization_id',
    ]);
    for (const entry of zip.entries) {
      expect(entry.method).toBe(0);
      expect((await zip.dataOffset(entry)) % 64).toBe(0);
    }
    const text = async (name: string) => new TextDecoder().decode(await zip.readEntry(zip.find(name)!, 100));
    expect(await text('archive/version')).toBe('3\n');
    expect(await text('archive/byteorder')).toBe('little');
    const pickle = await zip.readEntry(zip.find('archive/data.pkl')!, 1 << 20);
    // PROTO 2, GLOBAL 'collections OrderedDict', BINPUT 0, EMPTY_TUPLE, REDUCE, BINPUT 1, MARK
    expect(new TextDecoder('latin1').decode(pickle.subarray(0, 34))).toBe('\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01(');
    expect(pickle[pickle.length - 2]).toBe(0x62); // BUILD with the _metadata state
  });

  it('reads tensors sharing one storage at different offsets', async () => {
    const tensors = [
      randomTensor('fused.weight', 'F16', [4, 3], 1),
      randomTensor('fused.bias', 'F32', [5], 2),
      randomTensor('fused.k', 'F16', [2, 3], 3),
      randomTensor('fused.v', 'F16', [7], 4),
    ];
    const bytes = encodeTorchZip(tensors, { shareStorageFor: [['fused.weight', 'fused.k'], ['fused.weight', 'fused.v']] });
    const records = await readTorchZipHeader(sourceWith(bytes), FILE);
    expectRecordsMatch(bytes, records, tensors);
    const [weight, , k, v] = records;
    expect(k.offset).toBe(weight.offset + 4 * 3 * 2);
    expect(v.offset).toBe(k.offset + 2 * 3 * 2);
    expect((await entriesOf(bytes)).filter((entry) => entry.name.includes('/data/'))).toHaveLength(2);
  });

  it('reads Zip64 extra fields, deflated data.pkl and more than 1000 tensors (SETITEMS batches)', async () => {
    const many = Array.from({ length: 1003 }, (_, i) => randomTensor(`layers.${i}.weight`, 'F16', [1 + (i % 3)], i));
    const bytes = encodeTorchZip(many, {
      zip64Extras: true,
      deflatePickle: (data) => new Uint8Array(deflateRawSync(data)),
    });
    expectRecordsMatch(bytes, await readTorchZipHeader(sourceWith(bytes), FILE), many);
  });

  it('reads little: the directory, data.pkl and one local header per storage', async () => {
    const big = [randomTensor('big', 'F16', [512, 1024], 1), ...TENSORS];
    const bytes = encodeTorchZip(big);
    const source = new RecordingSource(sourceWith(bytes));
    await readTorchZipHeader(source, FILE);
    expect(source.bytesRead).toBeLessThan(70_000);
    expect(bytes.length).toBeGreaterThan(1_000_000);
  });

  it('accepts any stride on dimensions of size 1, as torch.is_contiguous does', () => {
    expect(isContiguous([3, 1, 4], [4, 99, 1])).toBe(true);
    expect(isContiguous([1, 4], [1, 1])).toBe(true);
    expect(isContiguous([0, 4], [7, 7])).toBe(true);
    expect(isContiguous([3, 4], [1, 3])).toBe(false);
    expect(isContiguous([3, 4], [8, 1])).toBe(false);
  });

  it('rejects non-contiguous strides, naming the tensor', async () => {
    const bytes = encodeTorchZip(TENSORS, { overrides: { 'lm_head.weight': { stride: [1, 11] } } });
    await expectBadModel(read(bytes), /tensor "lm_head\.weight" has strides \[1, 11\] for shape \[11, 6\]; only contiguous/);
  });

  it.each(['DoubleStorage', 'LongStorage', 'ByteStorage'])('rejects torch.%s, naming the tensor', async (storageType) => {
    const bytes = encodeTorchZip(TENSORS, { overrides: { 'model.norm.weight': { storageType } } });
    await expectBadModel(read(bytes), new RegExp(`tensor "model.norm.weight" is stored as torch.${storageType}; only float32`));
  });

  it('rejects a legacy (pre-1.6) torch.save file', async () => {
    // Legacy files are a bare pickle: PROTO 2, LONG1 magic number 0x1950a86a20f9469cfc6c, ...
    const legacy = Uint8Array.of(0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e);
    await expectBadModel(read(legacy), /legacy torch\.save format; re-save it with torch>=1\.6/);
  });

  it('rejects a zip without data.pkl, or with two', async () => {
    const entries = await entriesOf(encodeTorchZip(TENSORS));
    await expectBadModel(read(writeZip(entries.filter((entry) => !entry.name.endsWith('data.pkl')))), /has no <folder>\/data\.pkl entry/);
    const twice = [...entries, { ...entries[0], name: 'other/data.pkl' }];
    await expectBadModel(read(writeZip(twice)), /more than one <folder>\/data\.pkl/);
  });

  it('rejects a missing or short storage entry', async () => {
    const entries = await entriesOf(encodeTorchZip(TENSORS));
    const withoutStorage = entries.filter((entry) => entry.name !== 'archive/data/2');
    await expectBadModel(read(writeZip(withoutStorage)), /tensor "model\.layers\.0\.self_attn\.q_proj\.weight" refers to storage 2, which has no archive\/data\/2 entry/);
    const short = entries.map((entry) => (entry.name === 'archive/data/0' ? { ...entry, data: entry.data.subarray(10) } : entry));
    await expectBadModel(read(writeZip(short)), /tensor "model\.embed_tokens\.weight" .* does not fit in archive\/data\/0/);
  });

  it('rejects a compressed storage entry', async () => {
    const entries = (await entriesOf(encodeTorchZip(TENSORS))).map((entry) =>
      entry.name === 'archive/data/0' ? { ...entry, deflated: new Uint8Array(deflateRawSync(entry.data)) } : entry,
    );
    await expectBadModel(read(writeZip(entries)), /storage archive\/data\/0 is compressed/);
  });

  it('rejects a pickle that calls a global outside the whitelist', async () => {
    const evil = latin1('\x80\x02cposix\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03.');
    const entries = (await entriesOf(encodeTorchZip(TENSORS))).map((entry) =>
      entry.name === 'archive/data.pkl' ? { ...entry, data: evil } : entry,
    );
    await expectBadModel(read(writeZip(entries)), /pickle uses a global not allowed: posix\.system/);
  });

  it('rejects a pickle that is not a state dict of tensors', async () => {
    const replacePickle = async (pickle: string) =>
      writeZip(
        (await entriesOf(encodeTorchZip(TENSORS))).map((entry) =>
          entry.name === 'archive/data.pkl' ? { ...entry, data: latin1(pickle) } : entry,
        ),
      );
    await expectBadModel(read(await replacePickle('\x80\x02]q\x00.')), /holds a list, not a state dict/);
    await expectBadModel(read(await replacePickle('\x80\x02}q\x00X\x01\x00\x00\x00aK\x01s.')), /entry "a" is a number, not a tensor/);
  });

  it('rejects a truncated checkpoint', async () => {
    const bytes = encodeTorchZip(TENSORS);
    for (const length of [bytes.length - 1, Math.floor(bytes.length / 2), 64, 3]) {
      await expectBadModel(read(bytes.slice(0, length)), /not a zip archive|truncated/);
    }
  });

  it('never throws anything but bad-model on a corrupted checkpoint', async () => {
    const original = encodeTorchZip(TENSORS);
    const random = seededRandom(3);
    for (let trial = 0; trial < 300; trial++) {
      const bytes = original.slice();
      for (let i = 0; i < 4; i++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      let failure: unknown = null;
      try {
        await readTorchZipHeader(sourceWith(bytes), FILE);
      } catch (error) {
        failure = error;
      }
      if (failure !== null && !(failure instanceof EngineError && failure.code === 'bad-model')) {
        expect.fail(`trial ${trial}: ${String(failure)}`);
      }
    }
  });
});
