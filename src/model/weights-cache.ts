/**
 * Weights in the engine's own GPU format, saved to and restored from the cache: after the first
 * load converts and quantises a checkpoint, every weight buffer is read back and appended to one
 * `weights.bin`; the next load writes those bytes straight into fresh buffers, with no
 * conversion and no network. `StoredLayout` (the manifest's `extra`) says where each buffer is.
 */
import { EngineError } from '../errors';
import { USAGE, createBuffer } from '../gpu/buffers';
import type { Gpu } from '../gpu/runtime';
import type { WeightFormat } from '../gpu/shaders';
import type { FileSource } from '../loader/types';
import type { GpuWeights, UploadOptions, WeightSource } from './load-weights';
import { Uploader } from './upload';
import type { WeightLayout } from './weights';

export const WEIGHTS_FILE = 'weights.bin';
const CHUNK_BYTES = 16 << 20;

interface StoredBuffer {
  offset: number;
  bytes: number;
}

export interface StoredLayout {
  version: 1;
  hasLmHead: boolean;
  matrices: { key: string; format: WeightFormat; rows: number; cols: number; buffers: StoredBuffer[] }[];
  vectors: { key: string; length: number; buffer: StoredBuffer }[];
}

/** Reads every weight buffer back from the GPU and appends it to `append`, in layout order. */
export async function saveWeights(
  gpu: Gpu,
  layout: WeightLayout,
  weights: GpuWeights,
  hasLmHead: boolean,
  append: (bytes: Uint8Array) => Promise<void>,
  onProgress?: (doneBytes: number, totalBytes: number) => void,
): Promise<StoredLayout> {
  const { device } = gpu;
  // (CHUNK_BYTES) read-back staging, reused for every chunk
  const staging = createBuffer(device, 'cache read-back', CHUNK_BYTES, USAGE.MAP_READ | USAGE.COPY_DST);
  const buffersInOrder = [
    ...layout.matrices.flatMap((m) => weights.matrices.get(m.key)!.buffers),
    ...layout.vectors.map((v) => weights.vectors.get(v.key)!),
  ];
  const totalBytes = buffersInOrder.reduce((sum, buffer) => sum + buffer.size, 0);
  let offset = 0;
  const store = async (buffer: GPUBuffer): Promise<StoredBuffer> => {
    const start = offset;
    for (let at = 0; at < buffer.size; at += CHUNK_BYTES) {
      const size = Math.min(CHUNK_BYTES, buffer.size - at);
      const encoder = device.createCommandEncoder({ label: 'cache read-back' });
      encoder.copyBufferToBuffer(buffer, at, staging, 0, size);
      device.queue.submit([encoder.finish()]);
      await staging.mapAsync(GPUMapMode.READ, 0, size);
      const bytes = new Uint8Array(staging.getMappedRange(0, size).slice(0));
      staging.unmap();
      await append(bytes);
      offset += size;
      onProgress?.(offset, totalBytes);
    }
    return { offset: start, bytes: buffer.size };
  };
  try {
    const matrices: StoredLayout['matrices'] = [];
    for (const m of layout.matrices) {
      const stored: StoredBuffer[] = [];
      for (const buffer of weights.matrices.get(m.key)!.buffers) stored.push(await store(buffer));
      matrices.push({ key: m.key, format: m.format, rows: m.rows, cols: m.cols, buffers: stored });
    }
    const vectors: StoredLayout['vectors'] = [];
    for (const v of layout.vectors) vectors.push({ key: v.key, length: v.length, buffer: await store(weights.vectors.get(v.key)!) });
    return { version: 1, hasLmHead, matrices, vectors };
  } finally {
    staging.destroy();
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

/** Weights restored from a cache entry's weights.bin. */
export function cachedWeights(files: FileSource, stored: StoredLayout): WeightSource {
  return {
    hasLmHead: stored.hasLmHead,
    check(layout) {
      if (!storedLayoutMatches(stored, layout)) throw new EngineError('integrity-failed', 'The cached weights do not match this model and dtype: delete the cache entry and load again');
    },
    async fill(gpu: Gpu, weights: GpuWeights, _layout: WeightLayout, options: UploadOptions): Promise<void> {
      const jobs = [
        ...stored.matrices.flatMap((m) => m.buffers.map((b, i) => ({ buffer: weights.matrices.get(m.key)!.buffers[i], stored: b, name: m.key }))),
        ...stored.vectors.map((v) => ({ buffer: weights.vectors.get(v.key)!, stored: v.buffer, name: v.key })),
      ];
      const totalBytes = jobs.reduce((sum, job) => sum + job.stored.bytes, 0);
      const uploader = new Uploader(gpu);
      let doneBytes = 0;
      for (const job of jobs) {
        if (job.stored.bytes !== job.buffer.size) throw new EngineError('integrity-failed', `Cached ${job.name} has ${job.stored.bytes} bytes, expected ${job.buffer.size}`);
        for (let at = 0; at < job.stored.bytes; at += CHUNK_BYTES) {
          options.signal?.throwIfAborted();
          const size = Math.min(CHUNK_BYTES, job.stored.bytes - at);
          const bytes = await files.read(WEIGHTS_FILE, job.stored.offset + at, size, options.signal);
          const copied = uploader.copy(job.buffer, at, bytes); // queues the write now; waits when too much is queued
          doneBytes += size;
          options.onProgress?.({ doneBytes, totalBytes, tensor: job.name });
          await copied;
        }
      }
      await uploader.finish();
      gpu.context.throwIfFailed();
    },
  };
}
