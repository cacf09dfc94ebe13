import { describe, expect, it } from 'vitest';
import { encodeSafetensors, type TensorToEncode } from './formats/safetensors';
import { encodeTorchZip } from './testing/torch-zip-writer';
import { MemorySource } from './sources/memory-source';
import { RecordingSource, expectBadModel, randomTensor } from './testing/test-support';
import type { TensorRecord } from './types';
import { discoverWeights } from './weights-index';

const TENSORS: TensorToEncode[] = [
  randomTensor('model.embed_tokens.weight', 'F16', [9, 4], 1),
  randomTensor('model.layers.0.self_attn.q_proj.weight', 'F16', [4, 4], 2),
  randomTensor('model.layers.0.input_layernorm.weight', 'F32', [4], 3),
  randomTensor('model.norm.weight', 'BF16', [4], 4),
  randomTensor('lm_head.weight', 'F16', [9, 4], 5),
];

/** Splits TENSORS over shards as [0, 1], [2, 3], [4] and writes the index. */
function sharded(encode: (tensors: TensorToEncode[]) => Uint8Array, stem: string, extension: string, index: string) {
  const groups = [TENSORS.slice(0, 2), TENSORS.slice(2, 4), TENSORS.slice(4)];
  const source = new MemorySource();
  const weightMap: Record<string, string> = {};
  groups.forEach((group, i) => {
    const shard = `${stem}-0000${i + 1}-of-00003.${extension}`;
    source.set(shard, encode(group));
    for (const tensor of group) weightMap[tensor.name] = shard;
  });
  source.set(index, JSON.stringify({ metadata: { total_size: 1234 }, weight_map: weightMap }));
  return { source, weightMap };
}

async function expectTensorBytes(source: MemorySource, records: TensorRecord[]): Promise<void> {
  expect(records.map((record) => record.name).sort()).toEqual(TENSORS.map((tensor) => tensor.name).sort());
  for (const record of records) {
    const tensor = TENSORS.find((candidate) => candidate.name === record.name)!;
    expect(record.dtype).toBe(tensor.dtype);
    expect(record.shape).toEqual(tensor.shape);
    expect(await source.read(record.file, record.offset, record.byteLength)).toEqual(tensor.data);
  }
}

const shardedSafetensors = () =>
  sharded((tensors) => encodeSafetensors(tensors), 'model', 'safetensors', 'model.safetensors.index.json');
const shardedTorch = () =>
  sharded((tensors) => encodeTorchZip(tensors), 'pytorch_model', 'bin', 'pytorch_model.bin.index.json');

describe('discoverWeights', () => {
  it('reads sharded safetensors, each shard header once', async () => {
    const { source } = shardedSafetensors();
    const recording = new RecordingSource(source);
    const { format, tensors } = await discoverWeights(recording);
    expect(format).toBe('safetensors');
    await expectTensorBytes(source, tensors);
    expect(recording.reads).toHaveLength(3 * 2);
  });

  it('reads a single model.safetensors', async () => {
    const source = new MemorySource();
    source.set('model.safetensors', encodeSafetensors(TENSORS));
    const { format, tensors } = await discoverWeights(source);
    expect(format).toBe('safetensors');
    await expectTensorBytes(source, tensors);
  });

  it('reads sharded torch checkpoints', async () => {
    const { source } = shardedTorch();
    const { format, tensors } = await discoverWeights(source);
    expect(format).toBe('torch');
    await expectTensorBytes(source, tensors);
  });

  it('reads a single pytorch_model.bin', async () => {
    const source = new MemorySource();
    source.set('pytorch_model.bin', encodeTorchZip(TENSORS, { archiveName: 'pytorch_model' }));
    const { format, tensors } = await discoverWeights(source);
    expect(format).toBe('torch');
    await expectTensorBytes(source, tensors);
  });

  it('prefers safetensors over torch files', async () => {
    const { source } = shardedTorch();
    source.set('model.safetensors', encodeSafetensors(TENSORS));
    expect((await discoverWeights(source)).format).toBe('safetensors');
  });

  it('reports what it looked for when there are no weights', async () => {
    const source = new MemorySource(new Map(), 'org/empty@main');
    source.set('config.json', '{}');
    await expectBadModel(
      () => discoverWeights(source),
      /no weights found: expected one of model\.safetensors\.index\.json, model\.safetensors, pytorch_model\.bin\.index\.json, pytorch_model\.bin in org\/empty@main/,
    );
  });

  it('names a missing shard', async () => {
    const { source, weightMap } = shardedSafetensors();
    const files = new Map<string, Uint8Array>();
    for (const name of new Set([...Object.values(weightMap), 'model.safetensors.index.json'])) {
      if (name !== 'model-00002-of-00003.safetensors') files.set(name, await source.read(name, 0, (await source.size(name))!));
    }
    await expectBadModel(
      () => discoverWeights(new MemorySource(files)),
      /model\.safetensors\.index\.json names shard model-00002-of-00003\.safetensors, which is missing/,
    );
  });

  it('requires every weight_map tensor in its shard', async () => {
    const { source, weightMap } = shardedSafetensors();
    weightMap['model.norm.weight'] = 'model-00001-of-00003.safetensors';
    weightMap['extra.weight'] = 'model-00003-of-00003.safetensors';
    source.set('model.safetensors.index.json', JSON.stringify({ weight_map: weightMap }));
    await expectBadModel(() => discoverWeights(source), /puts tensor "model\.norm\.weight" in model-00001-of-00003\.safetensors, but .* does not contain it/);
  });

  it('rejects a tensor that appears in two shards', async () => {
    const { source } = shardedSafetensors();
    source.set('model-00003-of-00003.safetensors', encodeSafetensors([TENSORS[4], TENSORS[0]]));
    await expectBadModel(() => discoverWeights(source), /tensor "model\.embed_tokens\.weight" appears twice: in model-00001-of-00003\.safetensors and in model-00003/);
  });

  it('rejects malformed indexes', async () => {
    const withIndex = (text: string) => {
      const source = new MemorySource();
      source.set('model.safetensors.index.json', text);
      return () => discoverWeights(source);
    };
    await expectBadModel(withIndex('{"weight_map": '), /model\.safetensors\.index\.json is not valid JSON/);
    await expectBadModel(withIndex('{"metadata": {}}'), /has no weight_map object/);
    await expectBadModel(withIndex('{"weight_map": {}}'), /has an empty weight_map/);
    for (const shard of ['"../../etc/passwd"', '"/abs.safetensors"', '"a//b"', '3']) {
      await expectBadModel(withIndex(`{"weight_map": {"a": ${shard}}}`), /maps tensor "a" to .*, which is not a file in the repo/);
    }
  });

  it('passes a shard header error through, naming the shard', async () => {
    const { source } = shardedSafetensors();
    source.set('model-00002-of-00003.safetensors', new Uint8Array(4));
    await expectBadModel(() => discoverWeights(source), /model-00002-of-00003\.safetensors is 4 bytes long/);
  });
});
