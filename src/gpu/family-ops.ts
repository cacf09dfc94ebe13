/**
 * The ops only some families run, between the qkv projection and RoPE: Qwen2's q/k/v biases
 * (bias_add.wgsl) and Qwen3's per-head q/k RMSNorm (head_rmsnorm.wgsl). Both work in place on the
 * fused qkv rows, so every attention path after them (prefill, decode, fused or split) reads
 * projections that already have them.
 *
 * Legend: T = tokens in the chunk (Step.n_tokens), qkvDim = (heads + 2 kv heads) * headDim.
 */
import { grid } from './buffers';
import { WG, bindGroup, record, type Dispatch, type OpContext } from './ops';

/** qkv (T, dim) f32 += bias (dim) f32 on every row. */
export async function biasAddOp(ctx: OpContext, a: { label: string; step: GPUBuffer; bias: GPUBuffer; y: GPUBuffer; dim: number }): Promise<Dispatch> {
  const kernel = await ctx.pipelines.get({
    kernel: 'bias_add.wgsl',
    bindings: ['uniform', 'read', 'storage'],
    constants: { DIM: a.dim, WG },
  });
  const group = bindGroup(ctx, kernel.layout, a.label, [a.step, a.bias, a.y]);
  return {
    label: a.label,
    encode(pass, nTokens) {
      record(pass, kernel.pipeline, [group], ...grid(Math.ceil((nTokens * a.dim) / 4 / WG), ctx.maxWorkgroups));
    },
  };
}

/** RMSNorm over each q and k head of qkv (T, qkvDim) f32, in place; gains (headDim) f32. */
export async function headRmsnormOp(
  ctx: OpContext,
  a: { label: string; step: GPUBuffer; qGain: GPUBuffer; kGain: GPUBuffer; qkv: GPUBuffer; nHeads: number; nKvHeads: number; headDim: number; eps: number },
): Promise<Dispatch> {
  const kernel = await ctx.pipelines.get({
    kernel: 'head_rmsnorm.wgsl',
    accessors: ['reduce_workgroup.wgsl'],
    bindings: ['uniform', 'read', 'read', 'storage'],
    constants: { N_HEADS: a.nHeads, N_KV_HEADS: a.nKvHeads, HEAD_DIM: a.headDim, EPS: a.eps, WG: 64 },
  });
  const group = bindGroup(ctx, kernel.layout, a.label, [a.step, a.qGain, a.kGain, a.qkv]);
  return {
    label: a.label,
    encode(pass, nTokens) {
      record(pass, kernel.pipeline, [group], a.nHeads + a.nKvHeads, nTokens);
    },
  };
}
