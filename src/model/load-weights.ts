/**
 * Weights onto the GPU. A checkpoint's tensors stream in row chunks (bounded host memory
 * whatever the shard size) and are converted or quantised on the GPU by the Uploader. Whoever
 * allocated the buffers destroys them on any failure: nothing half-loaded survives.
 */
import { EngineError } from '../errors';
import { blockRanges, type BlockedMatrix } from '../gpu/row-blocks';
import type { Gpu } from '../gpu/runtime';
import { SOURCE_DTYPE_BYTES, type FileSource, type SourceDtype, type TensorRecord } from '../loader/types';
import { Uploader } from './upload';
import { hasOwnLmHead, matchTensors, type Placement, type WeightLayout } from './weights';

export interface LoadProgress {
  /** Checkpoint bytes read and uploaded so far, of `totalBytes`. */
  doneBytes: number;
  totalBytes: number;
  tensor: string;
  /** Checkpoint bytes not read at all: a partial cache entry already held what they make. */
  resumedBytes?: number;
  /**
   * Absent while the checkpoint streams; `restore` while a partial entry's buffers are copied to
   * the GPU, `save` while the last converted buffers are written to the cache (bytes are then
   * stored bytes, and `tensor` an engine buffer).
   */
  stage?: 'restore' | 'save';
}

export interface GpuWeights {
  /** Each matrix in row blocks, one unless it passed the device's binding limit (row-blocks.ts). */
  matrices: Map<string, BlockedMatrix>;
  vectors: Map<string, GPUBuffer>;
  destroy(): void;
}

export interface UploadOptions {
  onProgress?: (progress: LoadProgress) => void;
  signal?: AbortSignal;
}

/**
 * Where a model's weights come from: a checkpoint (converted on the GPU), the cache, or random
 * values. Buffers are allocated first (allocateWeights) and filled after, so the forward pass's
 * pipelines can compile while the bytes stream in.
 */
export interface WeightSource {
  /** The checkpoint has its own lm_head (else it is tied to the embedding). */
  hasLmHead: boolean;
  /** Throws `bad-model` if these weights cannot fill `layout`; runs before any allocation. */
  check(layout: WeightLayout): void;
  /** Writes every buffer of `weights` (allocated for `layout`). */
  fill(gpu: Gpu, weights: GpuWeights, layout: WeightLayout, options: UploadOptions): Promise<void>;
}

/**
 * Empty GPU buffers for every tensor of `layout`, a matrix in `blockRows` split into blocks of
 * that many rows (the memory plan's); an allocation failure is `out-of-memory`.
 */
export async function allocateWeights(gpu: Gpu, layout: WeightLayout, blockRows: ReadonlyMap<string, number> = new Map()): Promise<GpuWeights> {
  const uploader = new Uploader(gpu);
  const matrices = new Map<string, BlockedMatrix>();
  const vectors = new Map<string, GPUBuffer>();
  const weights: GpuWeights = {
    matrices,
    vectors,
    destroy() {
      for (const matrix of matrices.values()) for (const block of matrix.blocks) block.matrix.buffers.forEach((buffer) => buffer.destroy());
      for (const buffer of vectors.values()) buffer.destroy();
    },
  };
  gpu.device.pushErrorScope('out-of-memory');
  for (const m of layout.matrices) {
    const ranges = blockRanges(m.rows, blockRows.get(m.key) ?? m.rows);
    const blocks = ranges.map(([rowOffset, rows]) => ({ rowOffset, matrix: uploader.createMatrix(ranges.length === 1 ? m.key : `${m.key} rows ${rowOffset}+${rows}`, m.format, rows, m.cols) }));
    matrices.set(m.key, { format: m.format, rows: m.rows, cols: m.cols, blocks });
  }
  for (const v of layout.vectors) vectors.set(v.key, uploader.createVector(v.key, v.length));
  const oom = await gpu.device.popErrorScope();
  if (oom) {
    weights.destroy();
    throw new EngineError('out-of-memory', `Not enough GPU memory for the weights: ${oom.message}`);
  }
  return weights;
}

/** Allocates and fills in one go (benchmarks and tools); nothing survives a failure. */
export async function loadWeights(gpu: Gpu, source: WeightSource, layout: WeightLayout, options: UploadOptions = {}): Promise<GpuWeights> {
  source.check(layout);
  const weights = await allocateWeights(gpu, layout);
  try {
    await source.fill(gpu, weights, layout, options);
    return weights;
  } catch (error) {
    weights.destroy();
    throw error;
  }
}

/** Which engine buffers a streamed checkpoint may leave alone, and who hears when one is full. */
export interface StreamPlan {
  /** Buffers (matrix or vector keys) already filled: tensors that only feed these are not read. */
  filled?: ReadonlySet<string>;
  /** Called once per other buffer when its last tensor's rows are queued on the GPU. */
  onFilled?: (key: string) => void;
}

/** Hub-format tensors (safetensors or torch), converted or quantised on the GPU. */
export function checkpointWeights(tensors: TensorRecord[], source: FileSource, plan: StreamPlan = {}): WeightSource {
  let matched: { record: TensorRecord; placements: Placement[] }[] | undefined;
  return {
    hasLmHead: hasOwnLmHead(tensors),
    check(layout) {
      matched = matchTensors(layout, tensors);
    },
    fill(gpu, weights, layout, options) {
      return streamCheckpoint(gpu, weights, matched ?? matchTensors(layout, tensors), source, plan, options);
    },
  };
}

async function streamCheckpoint(
  gpu: Gpu,
  { matrices, vectors }: GpuWeights,
  matched: { record: TensorRecord; placements: Placement[] }[],
  source: FileSource,
  plan: StreamPlan,
  options: UploadOptions = {},
): Promise<void> {
  const uploader = new Uploader(gpu);
  try {
    const sorted = [...matched].sort((a, b) => a.record.file.localeCompare(b.record.file) || a.record.offset - b.record.offset);
    const totalBytes = sorted.reduce((sum, m) => sum + m.record.byteLength, 0);
    // A fused buffer (q/k/v, gate/up; tensors possibly in different shards) is full once its
    // last tensor is in: count what each still waits for.
    const filled = plan.filled ?? new Set<string>();
    const ordered = sorted
      .map(({ record, placements }) => ({ record, placements: placements.filter((p) => !filled.has(p.key)) }))
      .filter(({ placements }) => placements.length > 0);
    const waiting = new Map<string, number>();
    for (const { placements } of ordered) for (const { key } of placements) waiting.set(key, (waiting.get(key) ?? 0) + 1);
    const resumedBytes = totalBytes - ordered.reduce((sum, m) => sum + m.record.byteLength, 0);
    let doneBytes = resumedBytes;
    for (const { record, placements } of ordered) {
      const { name, dtype, shape } = record;
      const cols = shape.length === 2 ? shape[1] : shape[0];
      const rows = shape.length === 2 ? shape[0] : 1;
      const rowBytes = cols * SOURCE_DTYPE_BYTES[dtype];
      const chunkRows = uploader.rowsPerChunk(cols, dtype);
      for (let row = 0; row < rows; row += chunkRows) {
        options.signal?.throwIfAborted();
        const count = Math.min(chunkRows, rows - row);
        const bytes = await source.read(record.file, record.offset + row * rowBytes, count * rowBytes, options.signal);
        for (const placement of placements) {
          if (placement.kind === 'matrix') {
            await writeBlockRows(uploader, matrices.get(placement.key)!, placement.rowOffset + row, count, dtype, bytes);
          } else {
            await uploader.writeElements(vectors.get(placement.key)!, 'f32', placement.offset, dtype, bytes);
          }
        }
        doneBytes += bytes.byteLength;
        options.onProgress?.({ doneBytes, totalBytes, tensor: name, ...(resumedBytes > 0 ? { resumedBytes } : {}) });
      }
      for (const { key } of placements) {
        const left = waiting.get(key)! - 1;
        waiting.set(key, left);
        if (left === 0) plan.onFilled?.(key);
      }
    }
    await uploader.finish();
    gpu.context.throwIfFailed();
  } catch (error) {
    await uploader.finish().catch(() => undefined); // the original error is the one to report
    throw error;
  }
}

/** Writes `rows` rows of raw source bytes from matrix row `first` on, each into the block that holds it. */
async function writeBlockRows(uploader: Uploader, matrix: BlockedMatrix, first: number, rows: number, dtype: SourceDtype, bytes: Uint8Array): Promise<void> {
  const rowBytes = bytes.byteLength / rows;
  for (const { rowOffset, matrix: block } of matrix.blocks) {
    const from = Math.max(first, rowOffset);
    const to = Math.min(first + rows, rowOffset + block.rows);
    if (from >= to) continue;
    await uploader.writeRows(block, from - rowOffset, to - from, dtype, bytes.subarray((from - first) * rowBytes, (to - first) * rowBytes));
  }
}
