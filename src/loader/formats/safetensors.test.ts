import { describe, expect, it } from 'vitest';
import { MemorySource } from '../sources/memory-source';
import { RecordingSource, expectBadModel, randomTensor } from '../testing/test-support';
import { encodeSafetensors, readSafetensorsHeader } from './safetensors';

const FILE = 'model.safetensors';

/** A safetensors file whose header is exactly `json` (padded with spaces) followed by `dataBytes` bytes. */
function rawSafetensors(json: string, dataBytes = 0): Uint8Array {
  const header = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + header.length + dataBytes);
  new DataView(out.buffer).setUint32(0, header.length, true);
  out.set(header, 8);
  return out;
}

function sourceWith(bytes: Uint8Array): MemorySource {
  return new MemorySource(new Map([[FILE, bytes]]));
}

const read = (bytes: Uint8Array) => () => readSafetensorsHeader(sourceWith(bytes), FILE);

describe('safetensors', () => {
  it('round-trips F32, F16 and BF16 tensors at odd shapes', async () => {
    const tensors = [
      randomTensor('model.embed_tokens.weight', 'F16', [7, 5], 1),
      randomTensor('model.norm.weight', 'F32', [5], 2),
      randomTensor('lm_head.weight', 'BF16', [3, 5], 3),
      randomTensor('scalar', 'F32', [], 4),
      randomTensor('empty', 'F16', [0, 3], 5),
    ];
    const bytes = encodeSafetensors(tensors, { format: 'pt' });
    const records = await readSafetensorsHeader(sourceWith(bytes), FILE);

    expect(records.map(({ name, dtype, shape }) => ({ name, dtype, shape }))).toEqual(
      tensors.map(({ name, dtype, shape }) => ({ name, dtype, shape })),
    );
    for (const [i, record] of records.entries()) {
      expect(record.file).toBe(FILE);
      expect(bytes.slice(record.offset, record.offset + record.byteLength)).toEqual(tensors[i].data);
    }
  });

  it('pads the header with spaces to a multiple of 8, as the reference writer does', () => {
    const bytes = encodeSafetensors([randomTensor('a', 'F32', [3], 1)]);
    const headerLength = new DataView(bytes.buffer).getUint32(0, true);
    expect(headerLength % 8).toBe(0);
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + headerLength));
    expect(header).toMatch(/^\{"a":\{"dtype":"F32","shape":\[3\],"data_offsets":\[0,12\]\}\} *$/);
  });

  it('reads only the header, in two small reads, however large the file', async () => {
    const bytes = encodeSafetensors([randomTensor('big', 'F16', [1024, 1024], 1)]);
    const source = new RecordingSource(sourceWith(bytes));
    await readSafetensorsHeader(source, FILE);
    expect(source.reads).toHaveLength(2);
    expect(source.bytesRead).toBeLessThan(200);
  });

  it('skips __metadata__', async () => {
    const records = await readSafetensorsHeader(
      sourceWith(rawSafetensors('{"__metadata__":{"format":"pt"},"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 4)),
      FILE,
    );
    expect(records.map((record) => record.name)).toEqual(['x']);
  });

  it('rejects a missing file', async () => {
    await expectBadModel(() => readSafetensorsHeader(new MemorySource(), FILE), /model\.safetensors is missing/);
  });

  it('rejects a file too short for the header length', async () => {
    await expectBadModel(read(new Uint8Array(5)), /5 bytes long, too short/);
  });

  it('rejects a truncated header', async () => {
    const bytes = encodeSafetensors([randomTensor('a', 'F32', [4], 1)]);
    await expectBadModel(read(bytes.slice(0, 20)), /runs past the end of the 20-byte file; the file is truncated/);
  });

  it('rejects a header length larger than the file', async () => {
    const bytes = rawSafetensors('{}', 0);
    new DataView(bytes.buffer).setUint32(0, 5000, true);
    await expectBadModel(read(bytes), /header length 5000 runs past the end/);
  });

  it('rejects an oversized header length before allocating it', async () => {
    const bytes = rawSafetensors('{}');
    new DataView(bytes.buffer).setUint32(0, 100_000_001, true);
    await expectBadModel(read(bytes), /header length 100000001 is larger than the 100000000-byte limit/);
    new DataView(bytes.buffer).setUint32(4, 7, true);
    await expectBadModel(read(bytes), /header length 7 \* 2\^32 \+ 100000001 is larger/);
  });

  it('rejects a header length below 2', async () => {
    const bytes = rawSafetensors('{}');
    new DataView(bytes.buffer).setUint32(0, 1, true);
    await expectBadModel(read(bytes), /header length 1 is too small/);
  });

  it('rejects a header that is not JSON', async () => {
    await expectBadModel(read(rawSafetensors('{"a": [1, 2')), /header is not valid JSON/);
    await expectBadModel(read(rawSafetensors('[1, 2]')), /header is not a JSON object/);
  });

  it('rejects a header that is not UTF-8', async () => {
    const bytes = rawSafetensors('{"a":1}');
    bytes[10] = 0xff;
    await expectBadModel(read(bytes), /header is not valid UTF-8/);
  });

  it.each(['I8', 'F64', 'U8', 'I64', 'F8_E4M3', 'BOOL'])('rejects dtype %s, naming the tensor', async (dtype) => {
    const json = `{"layers.0.weight":{"dtype":"${dtype}","shape":[2],"data_offsets":[0,2]}}`;
    await expectBadModel(read(rawSafetensors(json, 16)), new RegExp(`tensor "layers.0.weight" has dtype ${dtype}; only F32, F16 and BF16`));
  });

  it('rejects a dtype that names an Object.prototype member', async () => {
    const json = '{"a":{"dtype":"constructor","shape":[1],"data_offsets":[0,4]}}';
    await expectBadModel(read(rawSafetensors(json, 4)), /has dtype constructor/);
  });

  it('rejects shapes that are not arrays of non-negative integers', async () => {
    for (const shape of ['[-1]', '[1.5]', '"3"', '[9007199254740993]', 'null']) {
      const json = `{"a":{"dtype":"F32","shape":${shape},"data_offsets":[0,4]}}`;
      await expectBadModel(read(rawSafetensors(json, 4)), /tensor "a" has shape .*expected an array of non-negative integers/);
    }
  });

  it('rejects a shape whose size does not match its data_offsets', async () => {
    const json = '{"a":{"dtype":"F16","shape":[2,3],"data_offsets":[0,10]}}';
    await expectBadModel(read(rawSafetensors(json, 16)), /shape \[2, 3\] of F16 needs 12 bytes but data_offsets \[0, 10\] span 10/);
  });

  it('rejects an element count that overflows', async () => {
    const json = '{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}';
    await expectBadModel(read(rawSafetensors(json, 4)), /needs too many bytes/);
  });

  it('rejects malformed data_offsets', async () => {
    for (const offsets of ['[0]', '[4, 0]', '[-4, 0]', '"0,4"']) {
      const json = `{"a":{"dtype":"F32","shape":[1],"data_offsets":${offsets}}}`;
      await expectBadModel(read(rawSafetensors(json, 4)), /tensor "a"/);
    }
  });

  it('rejects offsets past the end of the data region', async () => {
    const json = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}';
    await expectBadModel(read(rawSafetensors(json, 8)), /data_offsets \[4, 12\] run past the 8-byte data region/);
  });

  it('rejects overlapping tensors', async () => {
    const json =
      '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}';
    await expectBadModel(read(rawSafetensors(json, 12)), /tensors "a" and "b" overlap/);
  });

  it('accepts empty tensors sharing an offset', async () => {
    const json =
      '{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"F32","shape":[1,0],"data_offsets":[0,0]}}';
    expect(await readSafetensorsHeader(sourceWith(rawSafetensors(json)), FILE)).toHaveLength(2);
  });

  it('rejects entries that are not objects', async () => {
    await expectBadModel(read(rawSafetensors('{"a":3}')), /tensor "a" is not a JSON object/);
    await expectBadModel(read(rawSafetensors('{"a":{"shape":[1]}}')), /tensor "a" has no dtype/);
  });
});
