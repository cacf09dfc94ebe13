/**
 * The embedding lookup and y = x W^T over a matrix split into row blocks (row-blocks.ts). A
 * single block is the plain op, unchanged. Split, the embedding runs one dispatch per block (each
 * writes the tokens whose ids it holds); the linear op multiplies block by block into a scratch
 * (T, block rows) and scatters each block's columns into y (scatter_columns.wgsl), then, for the
 * fused gate/up matrix of a one-token step, runs SwiGLU itself (the GEMV's epilogue would see
 * only its block's half of gate and up).
 *
 * Legend: T = tokens in the chunk (Step.n_tokens), N = rows of the whole matrix (y's width).
 */
import { grid } from './buffers';
import { linearOp, type LinearArgs } from './linear-op';
import { embeddingOp, WG, bindGroup, record, swigluOp, type Dispatch, type OpContext } from './ops';
import type { BlockedMatrix } from './row-blocks';

export async function blockedEmbeddingOp(
  ctx: OpContext,
  a: { label: string; step: GPUBuffer; ids: GPUBuffer; table: BlockedMatrix; x: GPUBuffer },
): Promise<Dispatch> {
  const { blocks } = a.table;
  if (blocks.length === 1) return embeddingOp(ctx, { ...a, table: blocks[0].matrix });
  const ops = await Promise.all(blocks.map((b, i) => embeddingOp(ctx, { ...a, label: `${a.label} block ${i}`, table: b.matrix, rowOffset: b.rowOffset })));
  return {
    label: a.label,
    encode(pass, nTokens) {
      for (const op of ops) op.encode(pass, nTokens);
    },
  };
}

/** y (T, N) = x W^T (or +=, `accumulate`), W in row blocks; `scratch` holds (T, largest block rows) f32 when split. */
export async function blockedLinearOp(ctx: OpContext, a: Omit<LinearArgs, 'weight'> & { weight: BlockedMatrix; scratch?: GPUBuffer }): Promise<Dispatch> {
  const { blocks, rows } = a.weight;
  if (blocks.length === 1) return linearOp(ctx, { ...a, weight: blocks[0].matrix });
  const scratch = a.scratch!;
  const parts = await Promise.all(
    blocks.map(async (b, i) => {
      const label = `${a.label} block ${i}`;
      const [linear, scatter] = await Promise.all([
        // Everything the caller chose (norm, q4 GEMV, prefill matmul...) but where the output goes.
        linearOp(ctx, { ...a, label, weight: b.matrix, y: scratch, accumulate: false, swigluInto: undefined }),
        scatterColumnsOp(ctx, { label, step: a.step, block: scratch, y: a.y, outDim: rows, colOffset: b.rowOffset, blockCols: b.matrix.rows, accumulate: a.accumulate ?? false }),
      ]);
      return { linear, scatter };
    }),
  );
  const swiglu = a.swigluInto ? await swigluOp(ctx, { label: `${a.label} swiglu`, step: a.step, gateUp: a.y, h: a.swigluInto, inter: rows / 2 }) : undefined;
  return {
    label: a.label,
    encode(pass, nTokens) {
      for (const { linear, scatter } of parts) {
        linear.encode(pass, nTokens);
        scatter.encode(pass, nTokens);
      }
      // A one-token step with SwiGLU fused expects h from this op (llama.ts skips its swiglu).
      if (swiglu && nTokens === 1) swiglu.encode(pass, 1);
    },
  };
}

/** y[t, colOffset + j] (+)= block[t, j] for j < blockCols; see scatter_columns.wgsl. */
async function scatterColumnsOp(
  ctx: OpContext,
  a: { label: string; step: GPUBuffer; block: GPUBuffer; y: GPUBuffer; outDim: number; colOffset: number; blockCols: number; accumulate: boolean },
): Promise<Dispatch> {
  const kernel = await ctx.pipelines.get({
    kernel: 'scatter_columns.wgsl',
    bindings: ['uniform', 'read', 'storage'],
    constants: { OUT_DIM: a.outDim, BLOCK_COLS: a.blockCols, COL_OFFSET: a.colOffset, ACCUMULATE: a.accumulate, WG },
  });
  const group = bindGroup(ctx, kernel.layout, `${a.label} scatter`, [a.step, a.block, a.y]);
  return {
    label: `${a.label} scatter`,
    encode(pass, nTokens) {
      record(pass, kernel.pipeline, [group], ...grid(Math.ceil((nTokens * a.blockCols) / WG), ctx.maxWorkgroups));
    },
  };
}
