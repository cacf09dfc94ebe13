/**
 * The cache entry of a model being converted, written as the conversion goes, so that a reload,
 * a crash or a lost network costs only the buffer in progress. Each engine buffer (a matrix, or
 * a norm's vector) is read back from the GPU the moment its last checkpoint tensor is in (q/k/v
 * and gate/up are fused from tensors that may sit in different shards), appended to weights.bin
 * and checkpointed in the entry's journal. Loading again restores the checkpointed buffers from
 * the partial entry and streams only the tensors the others need.
 *
 * Saving never fails a load: the first failure (a full disk, say) stops saving, the model still
 * runs, and the caller reports it as the load's cacheError.
 */
import { EngineError } from '../errors';
import type { Gpu } from '../gpu/runtime';
import { fnv1a64, type ResumableWriter } from '../loader/cache/cache-store';
import type { FileSource, TensorRecord } from '../loader/types';
import { checkpointWeights, type GpuWeights, type UploadOptions, type WeightSource } from './load-weights';
import type { WeightLayout } from './weights';
import { bufferSizes, gpuBuffersOf, ReadBack, restoreBuffers, storedLayout, WEIGHTS_FILE, type StoredBuffer, type StoredLayout } from './weights-cache';

/** One checkpoint: where an engine buffer's bytes are in weights.bin. */
export interface SavedBuffer {
  key: string;
  buffers: StoredBuffer[];
}

/**
 * What a partial entry must match to be continued: the same snapshot of the repo (its commit,
 * else its weight files' sizes) converted to the same layout. Anything else starts afresh.
 */
export function entryHeader(layout: WeightLayout, hasLmHead: boolean, source: { commit?: string; files: Record<string, number> }): unknown {
  const shapes = [
    ...layout.matrices.map(({ key, format, rows, cols }) => `${key}:${format}:${rows}x${cols}`),
    ...layout.vectors.map(({ key, length }) => `${key}:${length}`),
  ].join(',');
  return { version: 1, commit: source.commit ?? null, files: source.files, hasLmHead, layout: fnv1a64(shapes) };
}

export class WeightsEntry {
  /** Buffers a previous load saved, by key: restored from weights.bin instead of converted. */
  readonly restored: ReadonlyMap<string, StoredBuffer[]>;
  private readonly saved: Map<string, StoredBuffer[]>;
  private readonly readBack: ReadBack;
  private queue: Promise<void> = Promise.resolve();
  private queuedBytes = 0;
  private savedBytes = 0;
  private failure: unknown;
  private onProgress: UploadOptions['onProgress'];

  /** `records` are the partial entry's checkpoints; one that does not fit `layout` is an `integrity-failed` error. */
  constructor(
    gpu: Gpu,
    private readonly writer: ResumableWriter,
    private readonly layout: WeightLayout,
    records: unknown[],
  ) {
    const sizes = bufferSizes(layout);
    const saved = new Map<string, StoredBuffer[]>();
    const fileBytes = writer.size(WEIGHTS_FILE);
    for (const record of records) {
      if (!isSavedBuffer(record, sizes, fileBytes) || saved.has(record.key)) {
        throw new EngineError('integrity-failed', `The partly downloaded copy of this model does not match its layout (${JSON.stringify(record).slice(0, 120)}): it is discarded`);
      }
      saved.set(record.key, record.buffers);
    }
    this.restored = new Map(saved);
    this.saved = saved;
    this.readBack = new ReadBack(gpu);
  }

  /**
   * Queues the read-back of `key`'s buffers (already queued on the GPU) into the entry: each
   * stored buffer from its GPU parts in order (a split matrix's row blocks, see gpuBuffersOf).
   */
  save(key: string, buffers: GPUBuffer[][]): void {
    if (this.failure !== undefined) return;
    this.queuedBytes += buffers.flat().reduce((sum, buffer) => sum + buffer.size, 0);
    this.queue = this.queue.then(async () => {
      if (this.failure !== undefined) return;
      try {
        const stored: StoredBuffer[] = [];
        for (const parts of buffers) {
          const offset = this.writer.size(WEIGHTS_FILE);
          for (const part of parts) {
            await this.readBack.buffer(part, async (bytes) => {
              await this.writer.append(WEIGHTS_FILE, bytes);
              this.savedBytes += bytes.length;
              this.onProgress?.({ doneBytes: this.savedBytes, totalBytes: this.queuedBytes, tensor: key, stage: 'save' });
            });
          }
          stored.push({ offset, bytes: parts.reduce((sum, part) => sum + part.size, 0) });
        }
        await this.writer.checkpoint({ key, buffers: stored } satisfies SavedBuffer);
        this.saved.set(key, stored);
      } catch (error) {
        this.failure = error;
      }
    });
  }

  /** Waits for every queued save, reporting what is left as `save` progress. */
  async flush(onProgress?: UploadOptions['onProgress']): Promise<void> {
    this.onProgress = onProgress;
    await this.queue;
    this.onProgress = undefined;
    this.readBack.destroy();
  }

  /** The layout of the complete entry: every buffer saved (else the reason saving stopped is thrown). */
  complete(hasLmHead: boolean): StoredLayout {
    if (this.failure !== undefined) throw this.failure;
    return storedLayout(this.layout, hasLmHead, this.saved);
  }

  /** The checkpoint's tensors, converted, with the entry's saved buffers restored and the rest saved as they fill. */
  weights(tensors: TensorRecord[], source: FileSource): WeightSource {
    let gpuWeights: GpuWeights | undefined;
    const stream = checkpointWeights(tensors, source, {
      filled: new Set(this.restored.keys()),
      onFilled: (key) => this.save(key, gpuBuffersOf(gpuWeights!, key)),
    });
    const files: FileSource = {
      description: 'the partly downloaded copy of this model',
      size: async (file) => this.writer.size(file),
      read: (file, offset, length) => this.writer.read(file, offset, length),
      readText: async () => null,
    };
    return {
      hasLmHead: stream.hasLmHead,
      check: (layout) => stream.check(layout),
      fill: async (gpu, weights, layout, options) => {
        gpuWeights = weights;
        await restoreBuffers(gpu, files, weights, this.restored, options, true).catch((error: unknown) => {
          if (!(error instanceof EngineError) || error.code !== 'integrity-failed') throw error;
          // Marked, so that the caller can tell a damaged partial entry from a damaged download.
          throw new EngineError('integrity-failed', error.message, { ...error.detail, partialEntry: true }, { cause: error });
        });
        try {
          await stream.fill(gpu, weights, layout, options);
        } finally {
          // Even a failed or stopped download keeps what it finished: its saves run out first,
          // and nothing reads a buffer after the caller destroys it.
          await this.flush(options.onProgress);
        }
      },
    };
  }
}

function isSavedBuffer(record: unknown, sizes: Map<string, number[]>, fileBytes: number): record is SavedBuffer {
  const saved = record as SavedBuffer | null;
  const expected = typeof saved?.key === 'string' ? sizes.get(saved.key) : undefined;
  return (
    expected !== undefined &&
    Array.isArray(saved!.buffers) &&
    saved!.buffers.length === expected.length &&
    saved!.buffers.every((b, i) => Number.isSafeInteger(b?.offset) && b.offset >= 0 && b.bytes === expected[i] && b.offset + b.bytes <= fileBytes)
  );
}
