/**
 * Weights in the engine's own GPU format, saved to and restored from the cache: as a checkpoint
 * is converted and quantised, each finished weight buffer is read back from the GPU and appended
 * to one `weights.bin` (weights-entry.ts); the next load writes those bytes straight into fresh
 * buffers, with no conversion and no network. `StoredLayout` (the manifest's `extra`) says where
 * each buffer is; buffers sit in the order they were finished, which is why each has an offset.
 */
import { EngineError } from '../errors';
import { USAGE, createBuffer } from '../gpu/buffers';
import type { Gpu } from '../gpu/runtime';
import type { WeightFormat } from '../gpu/shaders';
import type { FileSource } from '../loader/types';
import type { GpuWeights, UploadOptions, WeightSource } from './load-weights';
import { matrixBufferBytes, Uploader } from './upload';
import type { WeightLayout } from './weights';

export const WEIGHTS_FILE = 'weights.bin';
const CHUNK_BYTES = 16 << 20;

export interface StoredBuffer {
  offset: number;
  bytes: number;
}

export interface StoredLayout {
  version: 1;
  hasLmHead: boolean;
  matrices: { key: string; format: WeightFormat; rows: number; cols: number; buffers: StoredBuffer[] }[];
  vectors: { key: string; length: number; buffer: StoredBuffer }[];
}

/** Byte sizes of the GPU buffers behind each matrix and vector of `layout`, by key (as Uploader makes them). */
export function bufferSizes(layout: WeightLayout): Map<string, number[]> {
  const sizes = new Map<string, number[]>();
  for (const { key, format, rows, cols } of layout.matrices) {
    sizes.set(key, matrixBufferBytes(format, rows, cols));
  }
  for (const { key, length } of layout.vectors) sizes.set(key, [length * 4]);
  return sizes;
}

/**
 * The GPU buffers behind each stored buffer of one matrix or vector of `weights`: a matrix's
 * codes (or values) and scales are each the concatenation of its row blocks' (row-blocks.ts), so
 * the cache holds the whole matrix whatever the device split it into.
 */
export function gpuBuffersOf(weights: GpuWeights, key: string): GPUBuffer[][] {
  const matrix = weights.matrices.get(key);
  if (!matrix) return [[weights.vectors.get(key)!]];
  return matrix.blocks[0].matrix.buffers.map((_, i) => matrix.blocks.map((block) => block.matrix.buffers[i]));
}

/** The stored layout of `layout` once every buffer is stored (`stored` by key); throws if one is missing. */
export function storedLayout(layout: WeightLayout, hasLmHead: boolean, stored: ReadonlyMap<string, StoredBuffer[]>): StoredLayout {
  const buffersOf = (key: string) => {
    const buffers = stored.get(key);
    if (!buffers) throw new EngineError('internal', `weight buffer ${key} was never stored`);
    return buffers;
  };
  return {
    version: 1,
    hasLmHead,
    matrices: layout.matrices.map(({ key, format, rows, cols }) => ({ key, format, rows, cols, buffers: buffersOf(key) })),
    vectors: layout.vectors.map(({ key, length }) => ({ key, length, buffer: buffersOf(key)[0] })),
  };
}

/** A read-back of GPU buffers through one reused (CHUNK_BYTES) staging buffer. */
export class ReadBack {
  private staging: GPUBuffer | undefined;

  constructor(private readonly gpu: Gpu) {}

  /** Copies `buffer` to the host chunk by chunk; `append` must be done with each chunk when it resolves. */
  async buffer(buffer: GPUBuffer, append: (bytes: Uint8Array) => Promise<void>): Promise<void> {
    const { device } = this.gpu;
    // (CHUNK_BYTES) read-back staging, reused for every chunk
    this.staging ??= createBuffer(device, 'cache read-back', CHUNK_BYTES, USAGE.MAP_READ | USAGE.COPY_DST);
    for (let at = 0; at < buffer.size; at += CHUNK_BYTES) {
      const size = Math.min(CHUNK_BYTES, buffer.size - at);
      const encoder = device.createCommandEncoder({ label: 'cache read-back' });
      encoder.copyBufferToBuffer(buffer, at, this.staging, 0, size);
      device.queue.submit([encoder.finish()]);
      await this.staging.mapAsync(GPUMapMode.READ, 0, size);
      try {
        // Written from the mapped range itself: no 16 MiB copy per chunk for the GC to find later.
        await append(new Uint8Array(this.staging.getMappedRange(0, size)));
      } finally {
        this.staging.unmap();
      }
    }
  }

  destroy(): void {
    this.staging?.destroy();
    this.staging = undefined;
  }
}

/** Whether a stored layout holds exactly the buffers `layout` needs (else the entry is stale). */
export function storedLayoutMatches(stored: StoredLayout, layout: WeightLayout): boolean {
  if (stored.version !== 1 || stored.matrices.length !== layout.matrices.length || stored.vectors.length !== layout.vectors.length) return false;
  const matricesMatch = layout.matrices.every((m, i) => {
    const s = stored.matrices[i];
    return s.key === m.key && s.format === m.format && s.rows === m.rows && s.cols === m.cols;
  });
  return matricesMatch && layout.vectors.every((v, i) => stored.vectors[i].key === v.key && stored.vectors[i].length === v.length);
}

/**
 * Writes stored buffers (`stored` by key) from weights.bin in `files` into the matching GPU
 * buffers of `weights`, 16 MiB at a time. `restoring` marks the progress as a partial entry's.
 */
export async function restoreBuffers(
  gpu: Gpu,
  files: FileSource,
  weights: GpuWeights,
  stored: ReadonlyMap<string, StoredBuffer[]>,
  options: UploadOptions,
  restoring = false,
): Promise<void> {
  const jobs = [...stored].flatMap(([name, buffers]) => {
    const targets = gpuBuffersOf(weights, name);
    if (targets.length !== buffers.length) throw new EngineError('integrity-failed', `Cached ${name} has ${buffers.length} buffers, expected ${targets.length}`);
    return buffers.map((buffer, i) => {
      const bytes = targets[i].reduce((sum, part) => sum + part.size, 0);
      if (buffer.bytes !== bytes) throw new EngineError('integrity-failed', `Cached ${name} has ${buffer.bytes} bytes, expected ${bytes}`);
      return { name, parts: targets[i], stored: buffer };
    });
  });
  const totalBytes = jobs.reduce((sum, job) => sum + job.stored.bytes, 0);
  const uploader = new Uploader(gpu);
  let doneBytes = 0;
  for (const job of jobs) {
    // A split matrix's parts lie one after the other in the stored buffer.
    let partStart = 0;
    for (const part of job.parts) {
      for (let at = 0; at < part.size; at += CHUNK_BYTES) {
        options.signal?.throwIfAborted();
        const size = Math.min(CHUNK_BYTES, part.size - at);
        const bytes = await files.read(WEIGHTS_FILE, job.stored.offset + partStart + at, size, options.signal);
        const copied = uploader.copy(part, at, bytes); // queues the write now; waits when too much is queued
        doneBytes += size;
        options.onProgress?.({ doneBytes, totalBytes, tensor: job.name, ...(restoring ? { stage: 'restore' as const } : {}) });
        await copied;
      }
      partStart += part.size;
    }
  }
  await uploader.finish();
  gpu.context.throwIfFailed();
}

/** Weights restored from a complete cache entry's weights.bin. */
export function cachedWeights(files: FileSource, stored: StoredLayout): WeightSource {
  return {
    hasLmHead: stored.hasLmHead,
    check(layout) {
      if (!storedLayoutMatches(stored, layout)) throw new EngineError('integrity-failed', 'The cached weights do not match this model and dtype: delete the cache entry and load again');
    },
    fill(gpu: Gpu, weights: GpuWeights, _layout: WeightLayout, options: UploadOptions): Promise<void> {
      const byKey = new Map<string, StoredBuffer[]>();
      for (const m of stored.matrices) byKey.set(m.key, m.buffers);
      for (const v of stored.vectors) byKey.set(v.key, [v.buffer]);
      return restoreBuffers(gpu, files, weights, byKey, options);
    },
  };
}
