/**
 * The decode GEMV rows of the benchmark, old and new kernels side by side: each q4 GEMV the
 * variants use, the fused forms a fused decode step runs (norm in, SwiGLU out), and the f16
 * GEMV on the same shapes, whose bytes/s the q4 kernels are held to (issue 12's proxy that needs
 * no GPU: q4 bytes/s over f16 bytes/s, same shape, same run). Also the tuning sweep.
 */
import { STORAGE, createBuffer, createBufferWith } from '../gpu/buffers';
import { singleMatrix } from '../gpu/row-blocks';
import { linearOp, type LinearArgs, type Q4Gemv } from '../gpu/linear-op';
import type { Gpu } from '../gpu/runtime';
import type { WeightFormat } from '../gpu/shaders';
import type { LlamaConfig } from '../model/config';
import type { KernelChoice } from '../model/llama';
import { loadWeights, type GpuWeights } from '../model/load-weights';
import { randomWeights } from '../model/random-weights';
import { matrixBytes } from '../model/upload';
import type { WeightLayout } from '../model/weights';
import type { KernelRow, RowTimer } from './bench-timing';

export const Q4_GEMV_NAMES: Record<Q4Gemv, string> = { dot: 'int8 dot', f32: 'f32 dequant' };

export interface GemvRatio {
  key: string;
  shape: string;
  f16GBs: number;
  q4: { kernel: string; gbPerSecond: number; ratio: number }[];
}

/** The layer matrices of a decode step: [key, rows, cols]. */
export function layerShapes(config: LlamaConfig): [string, number, number][] {
  const d = config.hiddenSize;
  const inter = config.intermediateSize;
  const qDim = config.numHeads * config.headDim;
  const kvDim = config.numKvHeads * config.headDim;
  return [
    ['o_proj', d, qDim],
    ['q,k,v fused', qDim + 2 * kvDim, d],
    ['gate_proj', inter, d],
    ['gate,up fused', 2 * inter, d],
    ['down_proj', d, inter],
  ];
}

const gemvName = (format: WeightFormat, q4Gemv: Q4Gemv) => (format === 'q4' ? `GEMV q4, ${Q4_GEMV_NAMES[q4Gemv]}` : `GEMV ${format}`);

/** The format of the lm_head (and the embedding) at each benchmarked dtype, as the engine stores them. */
export const headFormatOf = (format: WeightFormat): WeightFormat => (format === 'q4' ? 'f16' : format);

/**
 * The random matrices the kernel rows run on, loaded once: the layer shapes in `format` as
 * `${format} ${key}` (and in f16 too for q4: the ratio's reference), `lm_head`, and a norm `gain`.
 */
export function benchLayout(config: LlamaConfig, format: WeightFormat): WeightLayout {
  const layerFormats: WeightFormat[] = format === 'q4' ? ['q4', 'f16'] : [format];
  return {
    matrices: [
      ...layerFormats.flatMap((f) => layerShapes(config).map(([key, rows, cols]) => ({ key: `${f} ${key}`, rows, cols, format: f }))),
      { key: 'lm_head', rows: config.vocabSize, cols: config.hiddenSize, format: headFormatOf(format) },
    ],
    vectors: [{ key: 'gain', length: config.hiddenSize }],
    placements: new Map(),
  };
}

/** The GEMV rows over `weights` (loaded for benchLayout(config, format)). */
export async function benchGemvs(gpu: Gpu, config: LlamaConfig, format: WeightFormat, weights: GpuWeights, variants: KernelChoice[], time: RowTimer): Promise<{ rows: KernelRow[]; ratios: GemvRatio[] }> {
  const d = config.hiddenSize;
  const shapes = layerShapes(config);
  const layerFormats: WeightFormat[] = format === 'q4' ? ['q4', 'f16'] : [format];
  const headFormat = headFormatOf(format);
  const random = (count: number) => Float32Array.from({ length: count }, (_, i) => Math.sin(i * 12.9898) * 0.5);
  const x = createBufferWith(gpu.device, 'bench gemv x', random(Math.max(d, config.intermediateSize)));
  const y = createBuffer(gpu.device, 'bench gemv y', Math.max(config.vocabSize, 2 * config.intermediateSize) * 4, STORAGE);
  const gain = weights.vectors.get('gain')!;
  const q4Gemvs = [...new Set(variants.map((k) => k.q4Gemv))];
  const rows: KernelRow[] = [];
  const measured = new Set<string>();
  const byShape = new Map<string, Map<string, number>>();
  const measure = async (name: string, key: string, f: WeightFormat, rowsOut: number, cols: number, args: Partial<LinearArgs>, extraBytes = 0) => {
    measured.add(name);
    const op = await linearOp(gpu, { label: name, step: time.step, x, weight: singleMatrix(weights.matrices.get(key)!), y, ...args });
    const outputs = args.swigluInto ? rowsOut / 2 : rowsOut;
    const row = await time(name, `${rowsOut}x${cols}`, op, 1, { nTokens: 1, pos0: 0 }, { bytes: matrixBytes(f, rowsOut, cols) + 4 * (outputs + cols) + extraBytes, flops: 2 * rowsOut * cols });
    rows.push(row);
    return row;
  };
  try {
    for (const [key, rowsOut, cols] of shapes) {
      const rates = new Map<string, number>();
      for (const f of layerFormats) {
        for (const q4Gemv of f === 'q4' ? q4Gemvs : (['f32'] as Q4Gemv[])) {
          const row = await measure(`${gemvName(f, q4Gemv)} (${key})`, `${f} ${key}`, f, rowsOut, cols, { q4Gemv });
          rates.set(f === 'q4' ? Q4_GEMV_NAMES[q4Gemv] : f, row.gbPerSecond!);
        }
      }
      byShape.set(key, rates);
    }
    await measure(`GEMV ${headFormat} (lm_head)`, 'lm_head', headFormat, config.vocabSize, d, {});
    // The forms the variants' decode steps run: the norm's x and gain read in, SwiGLU written out
    // (each once: for f16 the q4 GEMV makes no difference).
    const norm = { x, gain, eps: config.rmsNormEps };
    const [, qkvRows] = shapes[1];
    const [, gateUpRows] = shapes[3];
    for (const { q4Gemv, fuseNorms, fuseSwiglu } of variants) {
      const name = gemvName(format, q4Gemv);
      const qkvName = `${name} + RMSNorm (q,k,v fused)`;
      if (fuseNorms && !measured.has(qkvName)) await measure(qkvName, `${format} q,k,v fused`, format, qkvRows, d, { q4Gemv, norm }, 4 * d);
      const gateUpName = `${name}${fuseNorms ? ' + RMSNorm' : ''}${fuseSwiglu ? ' + SwiGLU' : ''} (gate,up fused)`;
      if ((fuseNorms || fuseSwiglu) && !measured.has(gateUpName)) {
        await measure(gateUpName, `${format} gate,up fused`, format, gateUpRows, d, { q4Gemv, norm: fuseNorms ? norm : undefined, swigluInto: fuseSwiglu ? y : undefined }, fuseNorms ? 4 * d : 0);
      }
    }
    if (variants.some((k) => k.fuseNorms)) await measure(`GEMV ${headFormat} + RMSNorm (lm_head)`, 'lm_head', headFormat, config.vocabSize, d, { norm }, 4 * d);
    const ratios: GemvRatio[] = [];
    if (format === 'q4') {
      for (const [key, rowsOut, cols] of shapes) {
        const rates = byShape.get(key)!;
        const f16GBs = rates.get('f16')!;
        const q4 = q4Gemvs.map((q4Gemv) => ({ kernel: Q4_GEMV_NAMES[q4Gemv], gbPerSecond: rates.get(Q4_GEMV_NAMES[q4Gemv])!, ratio: rates.get(Q4_GEMV_NAMES[q4Gemv])! / f16GBs }));
        ratios.push({ key, shape: `${rowsOut}x${cols}`, f16GBs, q4 });
      }
    }
    return { rows, ratios };
  } finally {
    [x, y].forEach((b) => b.destroy());
  }
}

/**
 * Times the decode GEMV of the o, gate/up and down shapes over workgroup shapes: threads and rows
 * per workgroup for gemv.wgsl / gemv_q4.wgsl, threads, lanes a row and rows a thread for
 * gemv_q4_dot.wgsl; for q4, the f16 GEMV on each shape first (the ratio's reference). Printed,
 * not written: its winners become the defaults in linear-op.ts.
 */
export async function sweepGemv(gpu: Gpu, config: LlamaConfig, format: WeightFormat, time: RowTimer): Promise<KernelRow[]> {
  const shapes = layerShapes(config).filter(([key]) => key !== 'q,k,v fused' && key !== 'gate_proj');
  const formats: WeightFormat[] = format === 'q4' ? ['f16', 'q4'] : [format];
  const layout: WeightLayout = { matrices: formats.flatMap((f) => shapes.map(([key, rows, cols]) => ({ key: `${f} ${key}`, rows, cols, format: f }))), vectors: [], placements: new Map() };
  const weights = await loadWeights(gpu, randomWeights(5), layout);
  const x = createBufferWith(gpu.device, 'sweep x', new Float32Array(config.intermediateSize).fill(0.01));
  const y = createBuffer(gpu.device, 'sweep y', 2 * config.intermediateSize * 4);
  const rows: KernelRow[] = [];
  try {
    for (const [key, rowsOut, cols] of shapes) {
      if (format === 'q4') {
        const f16 = await linearOp(gpu, { label: key, step: time.step, x, weight: singleMatrix(weights.matrices.get(`f16 ${key}`)!), y });
        rows.push(await time(`GEMV f16 (${key}), the reference`, `${rowsOut}x${cols}`, f16, 1, { nTokens: 1, pos0: 0 }, { bytes: matrixBytes('f16', rowsOut, cols) + 4 * (rowsOut + cols) }));
      }
      const base = { label: key, step: time.step, x, weight: singleMatrix(weights.matrices.get(`${format} ${key}`)!), y };
      const cost = { bytes: matrixBytes(format, rowsOut, cols) + 4 * (rowsOut + cols) };
      // 16 threads: a software adapter's best for gemv_q4.wgsl (SwiftShader, BENCHMARKS.md).
      for (const wg of [16, 32, 64, 128]) {
        for (const perGroup of format === 'q4' ? [2, 4, 8, 16] : [1, 2, 4, 8]) {
          const op = await linearOp(gpu, { ...base, q4Gemv: 'f32', tuning: { wg, rows: perGroup } });
          rows.push(await time(`${gemvName(format, 'f32')} (${key}) WG ${wg} ROWS ${perGroup}`, `${rowsOut}x${cols}`, op, 1, { nTokens: 1, pos0: 0 }, cost));
        }
      }
      if (format !== 'q4' || !gpu.packedDot) continue;
      for (const wg of [64, 128, 256]) {
        for (const lanes of [4, 8, 16, 32]) {
          for (const rowsPerThread of [1, 2, 4, 8]) {
            const op = await linearOp(gpu, { ...base, dotTuning: { wg, lanes, rowsPerThread } });
            if (op.decodeKernel !== 'gemv_q4_dot.wgsl') continue; // did not fit the workgroup memory
            rows.push(await time(`${gemvName(format, 'dot')} (${key}) WG ${wg} LANES ${lanes} ROWS/THREAD ${rowsPerThread}`, `${rowsOut}x${cols}`, op, 1, { nTokens: 1, pos0: 0 }, cost));
          }
        }
      }
    }
    return rows;
  } finally {
    weights.destroy();
    [x, y].forEach((b) => b.destroy());
  }
}
