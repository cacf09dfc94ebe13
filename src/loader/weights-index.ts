/**
 * Finds a repo's weights and lists every tensor's location, reading only headers. The order is
 * the one transformers' `from_pretrained` prefers: sharded safetensors, single safetensors,
 * sharded torch, single torch. Shard indexes (`*.index.json`) map tensor name -> shard file in
 * `weight_map` (transformers modeling_utils, `load_sharded_checkpoint`).
 */

import { isPlainRelativePath, type FileSource, type TensorRecord } from './types';
import { badModel } from './formats/binary';
import { readSafetensorsHeader } from './formats/safetensors';
import { readTorchZipHeader } from './formats/torch-zip';

export type WeightsFormat = 'safetensors' | 'torch';

export interface DiscoveredWeights {
  format: WeightsFormat;
  tensors: TensorRecord[];
}

type HeaderReader = (source: FileSource, file: string, signal?: AbortSignal) => Promise<TensorRecord[]>;

const CANDIDATES: { format: WeightsFormat; index: string; single: string; read: HeaderReader }[] = [
  { format: 'safetensors', index: 'model.safetensors.index.json', single: 'model.safetensors', read: readSafetensorsHeader },
  { format: 'torch', index: 'pytorch_model.bin.index.json', single: 'pytorch_model.bin', read: readTorchZipHeader },
];

/** The weight files the loader looks for, in the order it prefers them: an index, else a single file. */
export const WEIGHT_FILES: readonly { index: string; single: string }[] = CANDIDATES.map(({ index, single }) => ({ index, single }));

/** The shard files an index's weight_map names, once each (throws `bad-model` for a malformed index). */
export function indexShards(index: string, text: string): string[] {
  return [...new Set(parseWeightMap(index, text).values())];
}

export async function discoverWeights(source: FileSource, signal?: AbortSignal): Promise<DiscoveredWeights> {
  for (const { format, index, single, read } of CANDIDATES) {
    const indexText = await source.readText(index, signal);
    if (indexText !== null) return { format, tensors: await readSharded(source, index, indexText, read, signal) };
    if ((await source.size(single, signal)) !== null) return { format, tensors: await read(source, single, signal) };
  }
  const expected = CANDIDATES.flatMap(({ index, single }) => [index, single]).join(', ');
  throw badModel(`no weights found: expected one of ${expected} in ${source.description}`);
}

async function readSharded(
  source: FileSource,
  index: string,
  text: string,
  read: HeaderReader,
  signal?: AbortSignal,
): Promise<TensorRecord[]> {
  const weightMap = parseWeightMap(index, text);
  const shards = [...new Set(weightMap.values())];
  const sizes = await Promise.all(shards.map((shard) => source.size(shard, signal)));
  const missing = shards.filter((_, i) => sizes[i] === null);
  if (missing.length > 0) {
    throw badModel(`${index} names shard ${missing.join(', ')}, which is missing from ${source.description}`, {
      file: missing[0],
    });
  }

  // Each shard's header is read once, all at once: over HTTP the round trips overlap.
  const headers = await Promise.all(shards.map((shard) => read(source, shard, signal)));
  const byName = new Map<string, TensorRecord>();
  for (const record of headers.flat()) {
    const previous = byName.get(record.name);
    if (previous) {
      throw badModel(`tensor "${record.name}" appears twice: in ${previous.file} and in ${record.file}`, {
        tensor: record.name,
      });
    }
    byName.set(record.name, record);
  }
  for (const [name, shard] of weightMap) {
    if (byName.get(name)?.file !== shard) {
      throw badModel(`${index} puts tensor "${name}" in ${shard}, but ${shard} does not contain it`, {
        file: shard,
        tensor: name,
      });
    }
  }
  return [...byName.values()];
}

function parseWeightMap(index: string, text: string): Map<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw badModel(`${index} is not valid JSON (${(error as Error).message})`, { file: index });
  }
  const weightMap = (parsed as { weight_map?: unknown } | null)?.weight_map;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
    throw badModel(`${index} has no weight_map object`, { file: index });
  }
  const entries = Object.entries(weightMap);
  if (entries.length === 0) throw badModel(`${index} has an empty weight_map`, { file: index });
  for (const [name, shard] of entries) {
    if (typeof shard !== 'string' || !isPlainRelativePath(shard)) {
      throw badModel(`${index} maps tensor "${name}" to ${JSON.stringify(shard)}, which is not a file in the repo`, {
        file: index,
      });
    }
  }
  return new Map(entries as [string, string][]);
}
