/**
 * What a model needs from the device, worked out before anything is allocated: the largest
 * single binding (against maxStorageBufferBindingSize / maxBufferSize) and the total bytes.
 * A model that cannot fit fails here with an `unsupported` error that says what would fit.
 */
import { EngineError } from '../errors';
import { KV_BYTES_PER_ELEMENT, type KvFormat } from '../gpu/shaders';
import type { LlamaConfig } from './config';
import { matrixBytes } from './upload';
import type { WeightLayout } from './weights';

export interface RunShape {
  /** Longest sequence the KV cache holds. */
  contextLength: number;
  /** Most tokens one prefill submit carries. */
  maxChunk: number;
  /** Rows of logits kept: maxChunk for the logits CLI, 1 for generation. */
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
  largestBinding: { name: string; bytes: number };
}

export function planMemory(config: LlamaConfig, layout: WeightLayout, shape: RunShape): MemoryPlan {
  const { hiddenSize: d, intermediateSize: inter, numHeads, numKvHeads, headDim, vocabSize: v } = config;
  const qDim = numHeads * headDim;
  const kvDim = numKvHeads * headDim;
  const c = shape.maxChunk;
  const bindings: { name: string; bytes: number }[] = [];
  let weightBytes = 0;
  for (const m of layout.matrices) {
    const bytes = matrixBytes(m.format, m.rows, m.cols);
    weightBytes += bytes;
    bindings.push({ name: m.key, bytes: m.format === 'q4' ? m.rows * (m.cols / 2) : bytes });
  }
  weightBytes += layout.vectors.reduce((sum, vector) => sum + vector.length * 4, 0);
  const kvLayerBytes = shape.contextLength * kvDim * KV_BYTES_PER_ELEMENT[shape.kvFormat];
  bindings.push({ name: 'KV cache (one layer)', bytes: kvLayerBytes });
  const activations = [
    c * d * 4 * 2, // x, xn
    c * (qDim + 2 * kvDim) * 4, // qkv
    c * qDim * 4 * 2, // q, attention output
    c * 2 * inter * 4, // gate_up
    c * inter * 4, // h
    shape.logitsRows * v * 4, // logits
    v * 4 + v / 8, // sampler scratch and seen bitset
    shape.contextLength * headDim * 4, // rope table
  ];
  bindings.push({ name: 'logits', bytes: shape.logitsRows * v * 4 }, { name: 'gate_up activations', bytes: c * 2 * inter * 4 });
  const largestBinding = bindings.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const activationBytes = activations.reduce((a, b) => a + b, 0);
  const kvCacheBytes = 2 * config.numLayers * kvLayerBytes;
  return { weightBytes, kvCacheBytes, kvLayerBytes, activationBytes, totalBytes: weightBytes + kvCacheBytes + activationBytes, largestBinding };
}

export function checkPlanFits(plan: MemoryPlan, limits: GPUSupportedLimits): void {
  const limit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  if (plan.largestBinding.bytes > limit) {
    throw new EngineError(
      'unsupported',
      `${plan.largestBinding.name} needs a ${mib(plan.largestBinding.bytes)} buffer but this GPU allows at most ${mib(limit)} per buffer. Try a smaller dtype (q4) or a shorter context.`,
      { needed: plan.largestBinding.bytes, limit },
    );
  }
}

export function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(bytes < 2 ** 24 ? 1 : 0)} MiB`;
}
