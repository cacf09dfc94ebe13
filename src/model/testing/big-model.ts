/**
 * Node only, test support: a LLaMA repo of a gigabyte or more in the hub's torch layout
 * (pytorch_model-0000N-of-0000M.bin shards and their index, config.json, the real tokenizer),
 * written straight to disk: the shards are streamed 4 MiB at a time from one block of seeded
 * f16 values, so the test's own memory stays small. For tests of what happens at scale (a
 * download interrupted and resumed); the values make no sensible text.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DiskFile } from '../../loader/testing/fake-hub';
import { writeTorchZipFile } from '../../loader/testing/torch-zip-file';
import { f32ToF16Bits } from '../../loader/dtype';
import { seededRandom } from '../../seeded-random';
import { llamaConfigJson, llamaTensorShapes, TINY_TOKENIZER_CONFIG } from '../tiny-model';
import { llamaTokenizerModel } from '../tiny-model-node';
import type { ReferenceConfig } from '../reference';

const BLOCK_BYTES = 4 << 20;
const ONE_F16 = 0x3c00;

export interface BigRepo {
  /** File name -> bytes (small files) or where the file lies on disk (shards). */
  files: Map<string, Uint8Array | DiskFile>;
  /** Bytes of all tensors. */
  tensorBytes: number;
}

/** Writes the repo into `dir` (created); `shards` files of about equal size. */
export async function writeBigTorchRepo(dir: string, config: ReferenceConfig, shards: number, seed = 1): Promise<BigRepo> {
  await mkdir(dir, { recursive: true });
  const shapes = llamaTensorShapes(config);
  const bytesOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1) * 2;
  const tensorBytes = shapes.reduce((sum, [, shape]) => sum + bytesOf(shape), 0);
  // Scaled like trained weights (std 1/sqrt(fan-in) for the widest fan-in): finite through the layers.
  const random = seededRandom(seed);
  const block = new Uint16Array(BLOCK_BYTES / 2).map(() => f32ToF16Bits((random() * 2 - 1) * (1.7 / Math.sqrt(config.intermediateSize))));
  const ones = new Uint16Array(BLOCK_BYTES / 2).fill(ONE_F16);
  function* chunks(tensor: { name: string; shape: number[] }): Iterable<Uint8Array> {
    const source = tensor.shape.length === 1 ? ones : block; // norm gains are 1
    for (let left = bytesOf(tensor.shape); left > 0; left -= BLOCK_BYTES) yield new Uint8Array(source.buffer, 0, Math.min(left, BLOCK_BYTES));
  }

  const files = new Map<string, Uint8Array | DiskFile>();
  const weightMap: Record<string, string> = {};
  const name = (i: number) => `pytorch_model-${String(i + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.bin`;
  let done = 0;
  for (let shard = 0; shard < shards; shard++) {
    // Tensors in checkpoint order until this shard holds its share of the bytes.
    const part: { name: string; dtype: 'F16'; shape: number[] }[] = [];
    while (shapes.length > 0 && (shard === shards - 1 || done < ((shard + 1) * tensorBytes) / shards)) {
      const [tensorName, shape] = shapes.shift()!;
      part.push({ name: tensorName, dtype: 'F16', shape });
      weightMap[tensorName] = name(shard);
      done += bytesOf(shape);
    }
    const written = await writeTorchZipFile(path.join(dir, name(shard)), part, chunks);
    files.set(name(shard), { path: written.path, size: written.size, sha256: written.sha256 });
  }
  const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value, null, 2));
  files.set('pytorch_model.bin.index.json', json({ metadata: { total_size: tensorBytes }, weight_map: weightMap }));
  files.set('config.json', llamaConfigJson(config, { maxPositions: 2048, dtype: 'F16' }));
  files.set('generation_config.json', json({ bos_token_id: 1, eos_token_id: 2 }));
  files.set('tokenizer.model', await llamaTokenizerModel());
  files.set('tokenizer_config.json', json(TINY_TOKENIZER_CONFIG));
  for (const [file, content] of files) if (content instanceof Uint8Array) await writeFile(path.join(dir, file), content);
  return { files, tensorBytes };
}
