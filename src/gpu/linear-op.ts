/**
 * y = x W^T: the decode GEMV (one token), the batched GEMV (short chunks) and the tiled matmul
 * (prefill), built at load for one weight matrix. x: (T, cols) f32, y: (T, rows) f32.
 */
import { EngineError } from '../errors';
import { grid } from './buffers';
import { bindGroup, record, type Dispatch, type OpContext, type WeightMatrix } from './ops';
import type { ShaderFile } from './shaders';

/** Rows of X up to which the batched GEMV beats the tiled matmul (weights are read once). */
export const GEMV_MAX_TOKENS = 4;

/**
 * The q4 decode GEMV: 'dot' = gemv_q4_dot.wgsl (x quantised to int8 in the workgroup, integer
 * dot products; needs WGSL's packed_4x8_integer_dot_product), 'f32' = gemv_q4.wgsl (weights
 * dequantised to f32). 'dot' falls back to 'f32' where the adapter lacks the feature or the
 * workgroup memory for the staged x.
 */
export type Q4Gemv = 'dot' | 'f32';

/**
 * The prefill matmul (chunks of more than GEMV_MAX_TOKENS tokens): 'tile' = matmul.wgsl (4 x 4
 * outputs a thread, 64 x 64 tiles), 'reg' = matmul_reg.wgsl (4 x 8 a thread, 64 x 128 tiles,
 * next K step prefetched into registers), 'sgmat' = matmul_sgmat.wgsl on the matrix units
 * (f16 products into f32) for q4 matrices where the device has them (GpuContext.subgroupMatrix),
 * else 'reg'. Only q4: its weights are already far coarser than f16 activations, while f16 and
 * f32 models keep f32 activations (their logits are held to 1e-4 of f32).
 */
export type Matmul = 'tile' | 'reg' | 'sgmat';

const MATMUL: Record<Matmul, { kernel: ShaderFile; tileM: number; tileN: number }> = {
  tile: { kernel: 'matmul.wgsl', tileM: 64, tileN: 64 },
  reg: { kernel: 'matmul_reg.wgsl', tileM: 64, tileN: 128 },
  sgmat: { kernel: 'matmul_sgmat.wgsl', tileM: 64, tileN: 64 },
};

/** gemv.wgsl / gemv_q4.wgsl: threads and rows per workgroup. */
export interface GemvTuning {
  wg: number;
  rows: number;
}

/** gemv_q4_dot.wgsl: threads, threads per row, rows per thread. */
export interface DotTuning {
  wg: number;
  lanes: number;
  rowsPerThread: number;
}

export interface LinearDispatch extends Dispatch {
  /** The kernel a one-token step runs (which q4 GEMV it came to, for the benchmark's rows). */
  decodeKernel: ShaderFile;
  /** The kernel a chunk past GEMV_MAX_TOKENS runs. */
  prefillKernel: ShaderFile;
}

export interface LinearArgs {
  label: string;
  step: GPUBuffer;
  x: GPUBuffer;
  weight: WeightMatrix;
  y: GPUBuffer;
  /** y += x W^T (the residual add). */
  accumulate?: boolean;
  /**
   * The RMSNorm that produces `x`, fused into the one-token GEMV (gemv_input.wgsl): a decode
   * step then reads the residual stream `norm.x` and skips the norm dispatch.
   */
  norm?: { x: GPUBuffer; gain: GPUBuffer; eps: number };
  /**
   * For the fused gate/up matrix: a one-token step writes silu(gate) * up, (rows / 2) f32, here
   * instead of gate and up to y (gemv_output.wgsl's epilogue; no swiglu dispatch).
   */
  swigluInto?: GPUBuffer;
  q4Gemv?: Q4Gemv;
  matmul?: Matmul;
  /** Decode GEMV shape (the benchmark's sweep sets these). */
  tuning?: GemvTuning;
  dotTuning?: DotTuning;
}

const MAX_ROWS_PER_THREAD = 16; // gemv_q4_dot.wgsl

/** Output rows one gemv_q4_dot.wgsl workgroup computes: lanes share a row, each thread holds rowsPerThread. */
function dotRows(t: DotTuning): number {
  return (t.wg / t.lanes) * t.rowsPerThread;
}

/** Workgroup bytes gemv_q4_dot.wgsl declares for these constants (see its header). */
export function dotWorkgroupBytes(cols: number, t: DotTuning, subgroups: boolean): number {
  const rows = dotRows(t);
  const reducer = subgroups ? (t.wg / 4) * 4 + 4 : t.wg * 4;
  return (cols * 5) / 4 + rows * (t.lanes + 1) * 4 + rows * 4 + reducer + 4;
}

/**
 * Default gemv_q4_dot.wgsl shapes. GPUs (not yet measured on one, see BENCHMARKS.md): 256
 * threads, 32 lanes to a row, 4 rows a thread: 32 rows share one staged x and each thread keeps
 * 4 loads in flight. Software adapters (measured on SwiftShader, whose 4 SIMD lanes gather every
 * workgroup-memory read, so reusing the staged x across rows is what counts): 64 threads, 4 lanes
 * to a row, 8 rows a thread.
 */
const DOT_DEFAULTS: Record<'gpu' | 'software', DotTuning> = {
  gpu: { wg: 256, lanes: 32, rowsPerThread: 4 },
  software: { wg: 64, lanes: 4, rowsPerThread: 8 },
};

/**
 * The kernel's shape: as asked, or the device class's default with no more lanes than a row has
 * groups of 32 (so none idle); the workgroup then shrinks until the staged x fits the device's
 * workgroup memory. Undefined when it cannot fit.
 */
function dotShape(ctx: OpContext, cols: number, asked?: DotTuning): DotTuning | undefined {
  const fallback = DOT_DEFAULTS[ctx.software ? 'software' : 'gpu'];
  const shape = asked ? { ...asked } : { ...fallback, lanes: Math.min(fallback.lanes, 2 ** Math.floor(Math.log2(cols / 32))) };
  if (shape.rowsPerThread > MAX_ROWS_PER_THREAD || shape.wg % shape.lanes !== 0) throw new EngineError('internal', `gemv_q4_dot.wgsl cannot take the shape ${JSON.stringify(shape)}`);
  while (dotWorkgroupBytes(cols, shape, ctx.subgroups) > ctx.maxWorkgroupStorage && shape.wg > shape.lanes) shape.wg /= 2;
  // SWIGLU splits a workgroup's rows between gate and up: they must be even.
  const fits = dotWorkgroupBytes(cols, shape, ctx.subgroups) <= ctx.maxWorkgroupStorage && dotRows(shape) % 2 === 0;
  return fits ? shape : undefined;
}

export async function linearOp(ctx: OpContext, a: LinearArgs): Promise<LinearDispatch> {
  const { rows, cols, format } = a.weight;
  const accumulate = a.accumulate ?? false;
  const reducer = ctx.subgroups ? 'reduce_subgroup.wgsl' : 'reduce_workgroup.wgsl';
  const epilogue: Record<string, number | boolean> = {
    ACCUMULATE: accumulate,
    ...(a.swigluInto ? { SWIGLU: true } : {}),
    ...(a.norm ? { FUSED_NORM: true, EPS: a.norm.eps } : {}),
  };
  const dot = format === 'q4' && (a.q4Gemv ?? 'dot') === 'dot' && ctx.packedDot ? dotShape(ctx, cols, a.dotTuning) : undefined;
  // A row of cols / 8 chunks keeps at most that many threads busy: short rows get a smaller
  // workgroup holding more rows (tiny test models), long rows 64 threads.
  const wg = a.tuning?.wg ?? Math.min(64, Math.max(16, 2 ** Math.floor(Math.log2(cols / 8))));
  // q4 rows hold cols / 32 groups, one per thread step; about two steps per thread measured best
  // on an H100 (bench --sweep: 64 threads for 4096-wide rows, 128 for 11008).
  const q4Wg = a.tuning?.wg ?? Math.min(128, Math.max(16, 2 ** Math.floor(Math.log2(cols / 64))));
  const singleRows = dot ? dotRows(dot) : (a.tuning?.rows ?? (format === 'q4' || wg >= 64 ? 4 : 8));
  const decodeKernel: ShaderFile = dot ? 'gemv_q4_dot.wgsl' : format === 'q4' ? 'gemv_q4.wgsl' : 'gemv.wgsl';
  const decodeConstants: Record<string, number> = dot
    ? { WG: dot.wg, LANES: dot.lanes, ROWS_PER_THREAD: dot.rowsPerThread }
    : { WG: format === 'q4' ? q4Wg : wg, ROWS: singleRows };
  const batchedRows = 4;
  const asked = a.matmul ?? 'reg';
  const sgmat = asked === 'sgmat' && format === 'q4' ? ctx.subgroupMatrix : undefined;
  const matmulKernel = MATMUL[asked === 'sgmat' && !sgmat ? 'reg' : asked];
  const matmulConstants: Record<string, number> = sgmat ? { SG_SIZE: sgmat.subgroupSize, WG: 4 * sgmat.subgroupSize } : {};
  const [single, batched, matmul] = await Promise.all([
    ctx.pipelines.get({
      kernel: decodeKernel,
      accessors: ['gemv_input.wgsl', 'gemv_output.wgsl', reducer],
      // The q4 kernels declare the q4 bindings themselves (16-byte loads); the layout is the same.
      weights: format === 'q4' ? undefined : format,
      weightLayout: format === 'q4' ? format : undefined,
      bindings: ['uniform', 'read', 'storage', 'read'],
      constants: { IN_DIM: cols, OUT_DIM: rows, ...epilogue, ...decodeConstants },
    }),
    ctx.pipelines.get({
      kernel: 'gemv_batched.wgsl',
      accessors: [reducer],
      weights: format,
      bindings: ['uniform', 'read', 'storage'],
      constants: { IN_DIM: cols, OUT_DIM: rows, ACCUMULATE: accumulate, WG: Math.max(32, wg), ROWS: batchedRows, TOKENS: GEMV_MAX_TOKENS },
    }),
    ctx.pipelines.get({
      kernel: matmulKernel.kernel,
      accessors: sgmat ? [sgmat.accessor] : [],
      weights: format,
      bindings: ['uniform', 'read', 'storage'],
      constants: { IN_DIM: cols, OUT_DIM: rows, ACCUMULATE: accumulate, ...matmulConstants },
    }),
  ]);
  // Unfused, gemv_input.wgsl's gain binding is unused: x stands in for it.
  const singleInputs = a.norm ? [a.norm.x, a.norm.gain] : [a.x, a.x];
  const groups = [
    bindGroup(ctx, single.layout, `${a.label} ${single.label}`, [a.step, singleInputs[0], a.swigluInto ?? a.y, singleInputs[1]]),
    ...[batched, matmul].map((kernel) => bindGroup(ctx, kernel.layout, `${a.label} ${kernel.label}`, [a.step, a.x, a.y])),
  ];
  // With SWIGLU a workgroup's rows are half gate, half up: ceil(rows / singleRows) either way.
  const singleGrid = grid(Math.ceil(rows / singleRows), ctx.maxWorkgroups);
  const batchedGrid = grid(Math.ceil(rows / batchedRows), ctx.maxWorkgroups);
  return {
    label: a.label,
    decodeKernel,
    prefillKernel: matmulKernel.kernel,
    encode(pass, nTokens) {
      if (nTokens === 1) {
        record(pass, single.pipeline, [groups[0], a.weight.bindGroup], ...singleGrid);
      } else if (nTokens <= GEMV_MAX_TOKENS) {
        record(pass, batched.pipeline, [groups[1], a.weight.bindGroup], ...batchedGrid);
      } else {
        record(pass, matmul.pipeline, [groups[2], a.weight.bindGroup], Math.ceil(rows / matmulKernel.tileN), Math.ceil(nTokens / matmulKernel.tileM));
      }
    },
  };
}
