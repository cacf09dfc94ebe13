/**
 * RoPE, the KV cache store and causal attention. Prefill chunks run rope_kv.wgsl then
 * attention_prefill.wgsl (or attention.wgsl, one query a workgroup); a decode step runs split-K attention_decode.wgsl (with `fusedDecode` doing
 * the RoPE and the cache store itself, else after rope_kv.wgsl), then attention_merge.wgsl when
 * the keys span more than one chunk.
 */
import { grid } from './buffers';
import { WG, bindGroup, record, type Dispatch, type OpContext } from './ops';
import { KV_ACCESSOR, type KvFormat } from './shaders';

export interface AttentionShape {
  nHeads: number;
  nKvHeads: number;
  headDim: number;
  /** A sliding window: keys a query sees, itself included (Mistral); 0 or absent = all. */
  window?: number;
}

/** Keys per workgroup of split-K decode attention: a step whose context fits one needs no merge. */
export const ATTENTION_CHUNK = 64;

/** The chunks a decode step's keys are split over (attention_merge.wgsl agrees). */
const decodeChunks = (keys: number) => Math.ceil(keys / ATTENTION_CHUNK);

/** The WINDOW override, only where there is one (unwindowed pipelines keep their cache keys). */
function windowed(window: number): { WINDOW?: number } {
  return window > 0 ? { WINDOW: window } : {};
}

/**
 * Prefill attention: 'tiled' = attention_prefill.wgsl (up to 16 queries a workgroup share each
 * key and value read), 'row' = attention.wgsl (one query a workgroup).
 */
export type PrefillAttention = 'tiled' | 'row';

/** Queries a attention_prefill.wgsl workgroup takes: as many (up to 16) as workgroup memory holds. */
function prefillQueries(ctx: OpContext, headDim: number): number {
  const bytes = (tq: number) => tq * headDim * 4 + tq * ATTENTION_CHUNK * 4 + tq * 12;
  return [16, 8, 4, 2, 1].find((tq) => bytes(tq) <= ctx.maxWorkgroupStorage) ?? 1;
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

/**
 * Causal attention over the KV cache, out: (T, nHeads * headDim) f32. Without `fusedDecode`,
 * q must hold the rotated queries (ropeKvOp ran); with it, a one-token step does RoPE and the
 * cache store itself from the qkv GEMV's output (prefill chunks still need ropeKvOp).
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
    prefill?: PrefillAttention;
  },
): Promise<Dispatch> {
  const heads = { N_HEADS: a.nHeads, N_KV_HEADS: a.nKvHeads, HEAD_DIM: a.headDim };
  const window = a.window ?? 0;
  const maxChunks = Math.ceil(a.maxSeq / ATTENTION_CHUNK);
  const accessors = [KV_ACCESSOR[a.kvFormat]];
  const decodeKernel = (direct: boolean) =>
    ctx.pipelines.get({
      kernel: 'attention_decode.wgsl',
      accessors: [...accessors, 'decode_rope.wgsl'],
      bindings: ['uniform', 'read', 'read', 'storage', 'storage', 'storage', 'storage'],
      constants: { ...heads, MAX_CHUNKS: maxChunks, WG: ATTENTION_CHUNK, FUSED: a.fusedDecode !== undefined, DIRECT: direct, ...windowed(window) },
    });
  const tiled = (a.prefill ?? 'tiled') === 'tiled';
  const queriesPerGroup = tiled ? prefillQueries(ctx, a.headDim) : 1;
  const [prefill, split, direct, merge] = await Promise.all([
    tiled
      ? ctx.pipelines.get({ kernel: 'attention_prefill.wgsl', accessors, bindings: ['uniform', 'read', 'read', 'read', 'storage'], constants: { ...heads, WG: ATTENTION_CHUNK, TQ: queriesPerGroup, ...windowed(window) } })
      : ctx.pipelines.get({ kernel: 'attention.wgsl', accessors, bindings: ['uniform', 'read', 'read', 'read', 'storage'], constants: { ...heads, WG: 64, ...windowed(window) } }),
    decodeKernel(false),
    decodeKernel(true),
    ctx.pipelines.get({ kernel: 'attention_merge.wgsl', bindings: ['uniform', 'read', 'storage'], constants: { N_HEADS: a.nHeads, HEAD_DIM: a.headDim, MAX_CHUNKS: maxChunks, CHUNK_KEYS: ATTENTION_CHUNK, WG: 64, ...windowed(window) } }),
  ]);
  const prefillGroup = bindGroup(ctx, prefill.layout, a.label, [a.step, a.q, a.kCache, a.vCache, a.out]);
  // Unfused, the rope binding is unused: q stands in for it.
  const decodeInputs = a.fusedDecode ? [a.fusedDecode.qkv, a.fusedDecode.rope] : [a.q, a.q];
  const [splitGroup, directGroup] = [split, direct].map((kernel) =>
    bindGroup(ctx, kernel.layout, `${a.label} ${kernel.label}`, [a.step, ...decodeInputs, a.kCache, a.vCache, a.partials, a.out]),
  );
  const mergeGroup = bindGroup(ctx, merge.layout, `${a.label} merge`, [a.step, a.partials, a.out]);
  return {
    label: a.label,
    encode(pass, nTokens, pos0 = 0) {
      if (nTokens > 1) {
        record(pass, prefill.pipeline, [prefillGroup], a.nHeads, Math.ceil(nTokens / queriesPerGroup));
        return;
      }
      const chunks = decodeChunks(window > 0 ? Math.min(pos0 + 1, window) : pos0 + 1);
      if (chunks === 1) {
        record(pass, direct.pipeline, [directGroup], a.nHeads, 1);
      } else {
        record(pass, split.pipeline, [splitGroup], a.nHeads, chunks);
        record(pass, merge.pipeline, [mergeGroup], a.nHeads);
      }
    },
  };
}
