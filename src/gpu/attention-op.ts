/**
 * RoPE, the KV cache store and causal attention. Prefill chunks run rope_kv.wgsl then
 * attention.wgsl; a decode step runs either the fused attention_decode_gqa.wgsl (RoPE, store
 * and attention in one dispatch, plus attention_merge.wgsl past SINGLE_PASS_KEYS of context) or
 * the split path it replaced (rope_kv, attention_decode.wgsl, attention_merge.wgsl), which stays
 * while the benchmark compares the two on GPUs.
 */
import { grid } from './buffers';
import { WG, bindGroup, record, type Dispatch, type OpContext } from './ops';
import { KV_ACCESSOR, KV_BYTES_PER_ELEMENT, type KvFormat } from './shaders';

export interface AttentionShape {
  nHeads: number;
  nKvHeads: number;
  headDim: number;
  /** A sliding window: keys a query sees, itself included (Mistral); 0 or absent = all. */
  window?: number;
}

/** Keys per workgroup of split-K decode attention (both decode kernels). */
const ATTENTION_CHUNK = 64;
/**
 * Up to this many keys the fused decode kernel attends in one workgroup per KV head and one
 * dispatch: at short contexts a second (merge) dispatch costs more than the parallelism gains.
 */
export const SINGLE_PASS_KEYS = 256;
const MAX_GROUP = 8; // attention_decode_gqa.wgsl: query heads per KV head

/** decode_chunks() of common.wgsl: the chunks a decode step's keys are split over. */
function decodeChunks(keys: number, singlePassKeys: number, chunkKeys: number, maxChunks: number): number {
  return keys <= singlePassKeys ? 1 : Math.min(maxChunks, Math.ceil(keys / chunkKeys));
}

/** Bytes of the split-K softmax partials: (nHeads, ceil(maxSeq / chunk), headDim + 2) f32. */
export function attentionPartialsBytes(shape: AttentionShape, maxSeq: number): number {
  return shape.nHeads * Math.ceil(maxSeq / ATTENTION_CHUNK) * (shape.headDim + 2) * 4;
}

/** RoPE on q and k, k and v appended to the cache at rows pos0 .. pos0 + T. */
export async function ropeKvOp(
  ctx: OpContext,
  a: AttentionShape & { label: string; step: GPUBuffer; qkv: GPUBuffer; rope: GPUBuffer; q: GPUBuffer; kCache: GPUBuffer; vCache: GPUBuffer; kvFormat: KvFormat },
): Promise<Dispatch> {
  const kernel = await ctx.pipelines.get({
    kernel: 'rope_kv.wgsl',
    accessors: [KV_ACCESSOR[a.kvFormat]],
    bindings: ['uniform', 'read', 'read', 'storage', 'storage', 'storage'],
    constants: { N_HEADS: a.nHeads, N_KV_HEADS: a.nKvHeads, HEAD_DIM: a.headDim, WG },
  });
  const group = bindGroup(ctx, kernel.layout, a.label, [a.step, a.qkv, a.rope, a.q, a.kCache, a.vCache]);
  const slotsPerToken = ((a.nHeads + 2 * a.nKvHeads) * a.headDim) / 4;
  return {
    label: a.label,
    encode(pass, nTokens) {
      const [gx, gy] = grid(Math.ceil((nTokens * slotsPerToken) / WG), ctx.maxWorkgroups);
      record(pass, kernel.pipeline, [group], gx, gy);
    },
  };
}

/** The WINDOW override, only where there is one (unwindowed pipelines keep their cache keys). */
function windowed(window: number): { WINDOW?: number } {
  return window > 0 ? { WINDOW: window } : {};
}

/** Keys attention_decode_gqa.wgsl stages at once, as many as fit the device (none: undefined). */
function gqaTile(ctx: OpContext, shape: AttentionShape, kvFormat: KvFormat): number | undefined {
  const group = shape.nHeads / shape.nKvHeads;
  if (group > MAX_GROUP) return undefined;
  const bytes = (tile: number) => tile * shape.headDim * KV_BYTES_PER_ELEMENT[kvFormat] + group * (shape.headDim + tile + 3) * 4;
  return [32, 16, 8].find((tile) => bytes(tile) <= ctx.maxWorkgroupStorage);
}

/**
 * Causal attention over the KV cache, out: (T, nHeads * headDim) f32. Without `fusedDecode`,
 * q must hold the rotated queries (ropeKvOp ran); with it, a one-token step does RoPE and the
 * cache store itself from the qkv GEMV's output (and prefill chunks still need ropeKvOp).
 */
export async function attentionOp(
  ctx: OpContext,
  a: AttentionShape & {
    label: string;
    step: GPUBuffer;
    q: GPUBuffer;
    kCache: GPUBuffer;
    vCache: GPUBuffer;
    kvFormat: KvFormat;
    out: GPUBuffer;
    /** Scratch of attentionPartialsBytes(shape, maxSeq) bytes, shareable by every layer. */
    partials: GPUBuffer;
    maxSeq: number;
    /** (T, qDim + 2 kvDim) f32 unrotated projections and (maxSeq, headDim / 2) cos/sin pairs. */
    fusedDecode?: { qkv: GPUBuffer; rope: GPUBuffer };
  },
): Promise<Dispatch> {
  const heads = { N_HEADS: a.nHeads, N_KV_HEADS: a.nKvHeads, HEAD_DIM: a.headDim };
  const window = a.window ?? 0;
  const maxChunks = Math.ceil(a.maxSeq / ATTENTION_CHUNK);
  const accessors = [KV_ACCESSOR[a.kvFormat]];
  // attention_decode_gqa.wgsl knows no window: a windowed layer decodes on the split path.
  const tile = a.fusedDecode && window === 0 && gqaTile(ctx, a, a.kvFormat);
  // Where the fused kernel cannot run (a GQA group past MAX_GROUP, too little workgroup
  // memory) a fused step runs the split path with its own RoPE dispatch instead.
  const singlePassKeys = tile ? SINGLE_PASS_KEYS : 0;
  const chunks = { MAX_CHUNKS: maxChunks, SINGLE_PASS_KEYS: singlePassKeys, CHUNK_KEYS: ATTENTION_CHUNK };
  const [prefill, decode, merge, rope] = await Promise.all([
    ctx.pipelines.get({ kernel: 'attention.wgsl', accessors, bindings: ['uniform', 'read', 'read', 'read', 'storage'], constants: { ...heads, WG: 64, ...windowed(window) } }),
    tile
      ? ctx.pipelines.get({ kernel: 'attention_decode_gqa.wgsl', accessors: [...accessors, 'decode_rope.wgsl'], bindings: ['uniform', 'read', 'read', 'storage', 'storage', 'storage', 'storage'], constants: { ...heads, ...chunks, TILE: tile } })
      : ctx.pipelines.get({ kernel: 'attention_decode.wgsl', accessors, bindings: ['uniform', 'read', 'read', 'read', 'storage'], constants: { ...heads, MAX_CHUNKS: maxChunks, WG: ATTENTION_CHUNK, ...windowed(window) } }),
    ctx.pipelines.get({ kernel: 'attention_merge.wgsl', bindings: ['uniform', 'read', 'storage'], constants: { N_HEADS: a.nHeads, HEAD_DIM: a.headDim, ...chunks, WG: 64, ...windowed(window) } }),
    a.fusedDecode && !tile ? ropeKvOp(ctx, { ...a, label: `${a.label} rope`, ...a.fusedDecode }) : undefined,
  ]);
  const prefillGroup = bindGroup(ctx, prefill.layout, a.label, [a.step, a.q, a.kCache, a.vCache, a.out]);
  const decodeGroup = bindGroup(
    ctx,
    decode.layout,
    `${a.label} decode`,
    tile && a.fusedDecode ? [a.step, a.fusedDecode.qkv, a.fusedDecode.rope, a.kCache, a.vCache, a.out, a.partials] : [a.step, a.q, a.kCache, a.vCache, a.partials],
  );
  const mergeGroup = bindGroup(ctx, merge.layout, `${a.label} merge`, [a.step, a.partials, a.out]);
  return {
    label: a.label,
    encode(pass, nTokens, pos0 = 0) {
      if (nTokens > 1) {
        record(pass, prefill.pipeline, [prefillGroup], a.nHeads, nTokens);
        return;
      }
      rope?.encode(pass, 1);
      const keys = window > 0 ? Math.min(pos0 + 1, window) : pos0 + 1;
      const count = decodeChunks(keys, singlePassKeys, ATTENTION_CHUNK, maxChunks);
      record(pass, decode.pipeline, [decodeGroup], tile ? a.nKvHeads : a.nHeads, count);
      // attention_decode.wgsl always leaves partials; the fused kernel only past one chunk.
      if (count > 1 || !tile) record(pass, merge.pipeline, [mergeGroup], a.nHeads);
    },
  };
}
