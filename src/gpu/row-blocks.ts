/**
 * A weight matrix held as row blocks, each its own GPU buffers within the device's binding limit
 * (maxStorageBufferBindingSize, maxBufferSize): a matrix past the limit is split, never refused.
 * Llama-3's and Qwen's f16 embedding tables (1.0-1.1 GiB) exceed the 128 MiB or 1 GiB some
 * adapters allow; almost every other matrix is a single block, and then nothing changes.
 */
import { EngineError } from '../errors';
import type { WeightMatrix } from './ops';

export interface MatrixBlock {
  /** The block's first row in the whole matrix. */
  rowOffset: number;
  /** Rows rowOffset .. rowOffset + matrix.rows of the whole matrix. */
  matrix: WeightMatrix;
}

export interface BlockedMatrix {
  format: WeightMatrix['format'];
  rows: number;
  cols: number;
  /** In row order; one block when the matrix fits a binding. */
  blocks: MatrixBlock[];
}

/** The matrix as one binding (benchmarks, kernel tests); a split one is an internal error there. */
export function singleMatrix(matrix: BlockedMatrix): WeightMatrix {
  if (matrix.blocks.length !== 1) throw new EngineError('internal', `${matrix.blocks[0].matrix.buffers[0].label} is split in ${matrix.blocks.length} blocks`);
  return matrix.blocks[0].matrix;
}

/**
 * Rows per block for a (rows, cols) matrix whose buffers take `bytesPerRow` (the largest per-row
 * size of its buffers) under a binding limit of `limit` bytes; `outputRows` rows of output per
 * block must also fit a binding (the blocked linear op's scratch, (T, block rows) f32). Blocks
 * are whole multiples of 64 rows when they can be, so a block starts 256-byte aligned in any
 * f32 output row.
 */
export function rowsPerBlock(rows: number, bytesPerRow: number, limit: number, outputRows: number): number {
  const fit = Math.floor(Math.min(limit / bytesPerRow, limit / (outputRows * 4)));
  if (fit >= rows) return rows;
  if (fit < 1) throw new EngineError('unsupported', `One row of ${bytesPerRow} bytes does not fit this GPU's ${limit}-byte binding limit`);
  return fit >= 64 ? fit - (fit % 64) : fit;
}

/** (first row, rows) of each block of `rows` split `perBlock` at a time. */
export function blockRanges(rows: number, perBlock: number): [number, number][] {
  const ranges: [number, number][] = [];
  for (let first = 0; first < rows; first += perBlock) ranges.push([first, Math.min(perBlock, rows - first)]);
  return ranges;
}
