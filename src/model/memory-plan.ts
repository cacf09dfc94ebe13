/**
 * What a model needs from the device, worked out before anything is allocated: the largest
 * single binding (against maxStorageBufferBindingSize / maxBufferSize) and the total bytes.
 * A model that cannot fit fails here with an `unsupported` error that names the buffer and says
 * whether anything (q4, a shorter context) would shrink it.
 */
import { EngineError } from '../errors';
import { TOKEN_SCORE_WORDS } from '../gpu/ops';
import { KV_BYTES_PER_ELEMENT, type KvFormat } from '../gpu/shaders';
import type { LlamaConfig } from './config';
import { matrixBytes } from './upload';
import { weightLayout, type WeightLayout } from './weights';

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
  largestBinding: Binding;
}

/** One buffer a kernel binds: a weight matrix (in `format`), one layer's KV cache, or activations. */
export interface Binding {
  name: string;
  bytes: number;
  kind: 'weights' | 'kv-cache' | 'activations';
  /** For weights: whether loading as q4 would make this matrix smaller. */
  shrinksAtQ4?: boolean;
}

/** Bytes of every weight buffer of `layout`: what the GPU holds, and what the cache stores. */
export function layoutBytes(layout: WeightLayout): number {
  const matrices = layout.matrices.reduce((sum, m) => sum + matrixBytes(m.format, m.rows, m.cols), 0);
  return matrices + layout.vectors.reduce((sum, vector) => sum + vector.length * 4, 0);
}

export function planMemory(config: LlamaConfig, layout: WeightLayout, shape: RunShape): MemoryPlan {
  const { hiddenSize: d, intermediateSize: inter, numHeads, numKvHeads, headDim, vocabSize: v } = config;
  const qDim = numHeads * headDim;
  const kvDim = numKvHeads * headDim;
  const c = shape.maxChunk;
  const bindings: Binding[] = [];
  const weightLayoutAtQ4 = new Map(weightLayout(config, 'q4', layout.matrices.some((m) => m.key === 'lm_head')).matrices.map((m) => [m.key, m.format]));
  for (const m of layout.matrices) {
    const bytes = matrixBytes(m.format, m.rows, m.cols);
    const shrinksAtQ4 = m.format !== 'q4' && weightLayoutAtQ4.get(m.key) === 'q4';
    bindings.push({ name: m.key, bytes: m.format === 'q4' ? m.rows * (m.cols / 2) : bytes, kind: 'weights', shrinksAtQ4 });
  }
  const weightBytes = layoutBytes(layout);
  const kvLayerBytes = shape.contextLength * kvDim * KV_BYTES_PER_ELEMENT[shape.kvFormat];
  bindings.push({ name: 'KV cache (one layer)', bytes: kvLayerBytes, kind: 'kv-cache' });
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
  ];
  bindings.push(
    { name: 'logits', bytes: shape.logitsRows * v * 4, kind: 'activations' },
    { name: 'gate_up activations', bytes: c * 2 * inter * 4, kind: 'activations' },
  );
  const largestBinding = bindings.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const activationBytes = activations.reduce((a, b) => a + b, 0);
  const kvCacheBytes = 2 * config.numLayers * kvLayerBytes;
  return { weightBytes, kvCacheBytes, kvLayerBytes, activationBytes, totalBytes: weightBytes + kvCacheBytes + activationBytes, largestBinding };
}

export function checkPlanFits(plan: MemoryPlan, limits: GPUSupportedLimits): void {
  const limit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const { name, bytes, kind, shrinksAtQ4 } = plan.largestBinding;
  if (bytes <= limit) return;
  // Only what would shrink this buffer is worth suggesting.
  const fix =
    kind === 'kv-cache' ? 'A shorter context makes it smaller.'
    : shrinksAtQ4 ? 'Loading the model as q4 makes it smaller.'
    : 'Nothing in the settings makes it smaller: this model needs a GPU (or browser) with a larger buffer limit.';
  throw new EngineError('unsupported', `${name} needs a ${mib(bytes)} buffer but this GPU allows at most ${mib(limit)} per buffer. ${fix}`, {
    binding: name,
    bindingKind: kind,
    shrinksAtQ4: shrinksAtQ4 === true,
    bindingBytes: bytes,
    limit,
  });
}

export function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(bytes < 2 ** 24 ? 1 : 0)} MiB`;
}
