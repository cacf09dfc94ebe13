/**
 * What a model needs from the device, worked out before anything is allocated: the total bytes,
 * the row blocks a matrix past the binding limit (maxStorageBufferBindingSize / maxBufferSize)
 * is split into, and the largest buffer that cannot be split. Weights are never refused for
 * size: a matrix past the limit is split (row-blocks.ts). A KV cache layer or an activation past
 * it fails here with an `unsupported` error that names the buffer and says whether a shorter
 * context would shrink it.
 */
import { EngineError } from '../errors';
import { rowsPerBlock } from '../gpu/row-blocks';
import { TOKEN_SCORE_WORDS } from '../gpu/ops';
import { KV_BYTES_PER_ELEMENT, type KvFormat } from '../gpu/shaders';
import type { LlamaConfig } from './config';
import { matrixBufferBytes, matrixBytes } from './upload';
import type { MatrixSpec, WeightLayout } from './weights';

export interface RunShape {
  /** Longest sequence the KV cache holds. */
  contextLength: number;
  /** Most tokens one prefill submit carries. */
  maxChunk: number;
  /** Rows of logits kept: maxChunk for the logits CLI, SCORE_ROWS for chat engines (scoring), 1 is enough to generate. */
  logitsRows: number;
  /** KV cache element format. */
  kvFormat: KvFormat;
}

export interface MemoryPlan {
  weightBytes: number;
  kvCacheBytes: number;
  /** One layer's k (or v) cache: contextLength rows of kvDim elements in shape.kvFormat. */
  kvLayerBytes: number;
  activationBytes: number;
  totalBytes: number;
  /** The largest buffer that cannot be split: a KV cache layer or an activation. */
  largestBinding: Binding;
  /** Rows per block of each matrix past the binding limit (the others are one block). */
  blockRows: Map<string, number>;
  /** Bytes of the (max(maxChunk, logitsRows), largest block rows) f32 scratch split matrices multiply into; 0 when none is split. */
  scratchBytes: number;
}

/** One buffer a kernel binds: one layer's KV cache, or activations. */
export interface Binding {
  name: string;
  bytes: number;
  kind: 'weights' | 'kv-cache' | 'activations';
  /** For weights: whether loading as q4 would make this matrix smaller. */
  shrinksAtQ4?: boolean;
}

/** The most bytes one buffer may bind on a device with these limits. */
export function bindingLimit(limits: Pick<GPUSupportedLimits, 'maxStorageBufferBindingSize' | 'maxBufferSize'>): number {
  return Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
}

/** Bytes of every weight buffer of `layout`: what the GPU holds, and what the cache stores. */
export function layoutBytes(layout: WeightLayout): number {
  const matrices = layout.matrices.reduce((sum, m) => sum + matrixBytes(m.format, m.rows, m.cols), 0);
  return matrices + layout.vectors.reduce((sum, vector) => sum + vector.length * 4, 0);
}

/** Rows per block of `m` under `limit` (all its rows when it fits one binding). */
export function matrixBlockRows(m: MatrixSpec, limit: number, outputRows: number): number {
  const bytesPerRow = Math.max(...matrixBufferBytes(m.format, 1, m.cols));
  return m.rows * bytesPerRow <= limit ? m.rows : rowsPerBlock(m.rows, bytesPerRow, limit, outputRows);
}

/**
 * The memory `layout` takes with `shape`, on a device that binds at most `limit` bytes per
 * buffer (unknown, as in the cost estimate before a download: nothing is split).
 */
export function planMemory(config: LlamaConfig, layout: WeightLayout, shape: RunShape, limit = Infinity): MemoryPlan {
  const { hiddenSize: d, intermediateSize: inter, numHeads, numKvHeads, headDim, vocabSize: v } = config;
  const qDim = numHeads * headDim;
  const kvDim = numKvHeads * headDim;
  const c = shape.maxChunk;
  const outputRows = Math.max(c, shape.logitsRows);
  const blockRows = new Map<string, number>();
  for (const m of layout.matrices) {
    const rows = matrixBlockRows(m, limit, outputRows);
    if (rows < m.rows) blockRows.set(m.key, rows);
  }
  const scratchBytes = blockRows.size === 0 ? 0 : outputRows * Math.max(...blockRows.values()) * 4;
  const weightBytes = layoutBytes(layout);
  const kvLayerBytes = shape.contextLength * kvDim * KV_BYTES_PER_ELEMENT[shape.kvFormat];
  const activations = [
    c * d * 4 * 2, // x, xn
    c * (qDim + 2 * kvDim) * 4, // qkv
    c * qDim * 4 * 2, // q, attention output
    c * 2 * inter * 4, // gate_up
    c * inter * 4, // h
    shape.logitsRows * v * 4, // logits
    shape.logitsRows * (1 + TOKEN_SCORE_WORDS) * 4 + shape.contextLength * TOKEN_SCORE_WORDS * 4, // scoring targets, results, read-back
    v * 4 + v / 8, // sampler scratch and seen bitset
    shape.contextLength * headDim * 4, // rope table
    scratchBytes, // split matrices' block outputs
  ];
  const bindings: Binding[] = [
    { name: 'KV cache (one layer)', bytes: kvLayerBytes, kind: 'kv-cache' },
    { name: 'logits', bytes: shape.logitsRows * v * 4, kind: 'activations' },
    { name: 'gate_up activations', bytes: c * 2 * inter * 4, kind: 'activations' },
  ];
  const largestBinding = bindings.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const activationBytes = activations.reduce((a, b) => a + b, 0);
  const kvCacheBytes = 2 * config.numLayers * kvLayerBytes;
  return { weightBytes, kvCacheBytes, kvLayerBytes, activationBytes, totalBytes: weightBytes + kvCacheBytes + activationBytes, largestBinding, blockRows, scratchBytes };
}

export function checkPlanFits(plan: MemoryPlan, limits: GPUSupportedLimits): void {
  const limit = bindingLimit(limits);
  const { name, bytes, kind } = plan.largestBinding;
  if (bytes <= limit) return;
  // Only what would shrink this buffer is worth suggesting.
  const fix = kind === 'kv-cache' ? 'A shorter context makes it smaller.' : 'Nothing in the settings makes it smaller: this model needs a GPU (or browser) with a larger buffer limit.';
  throw new EngineError('unsupported', `${name} needs a ${mib(bytes)} buffer but this GPU allows at most ${mib(limit)} per buffer. ${fix}`, {
    binding: name,
    bindingKind: kind,
    shrinksAtQ4: false,
    bindingBytes: bytes,
    limit,
  });
}

export function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(bytes < 2 ** 24 ? 1 : 0)} MiB`;
}
