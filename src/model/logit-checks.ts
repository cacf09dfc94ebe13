/**
 * How the engine's logits are held against a reference: the forward-pass tests and the CLI's
 * `selftest` (which runs the same checks on whatever adapter a machine has) share these.
 */
import type { Gpu } from '../gpu/runtime';
import { MemorySource } from '../loader/sources/memory-source';
import { discoverWeights } from '../loader/weights-index';
import { parseConfig } from './config';
import { LlamaModel, type LoadOptions } from './llama';
import { checkpointWeights } from './load-weights';
import type { TinyModel } from './tiny-model';

/** Loads a generated tiny model's files through the same path a real repo takes. */
export async function loadTinyModel(gpu: Gpu, model: TinyModel, options: LoadOptions): Promise<LlamaModel> {
  const source = new MemorySource(model.files);
  const config = parseConfig(new TextDecoder().decode(model.files.get('config.json')));
  const { tensors } = await discoverWeights(source);
  return LlamaModel.load(gpu, config, checkpointWeights(tensors, source), options);
}

/** Largest |gpu - ref| of a row over the row's largest |ref|, maximised over rows; NaN counts as Infinity. */
export function rowRelativeError(gpu: Float32Array, ref: Float64Array, vocab: number): number {
  let worst = 0;
  for (let row = 0; row < ref.length / vocab; row++) {
    let diff = 0;
    let scale = 0;
    for (let i = row * vocab; i < (row + 1) * vocab; i++) {
      diff = Math.max(diff, Math.abs(gpu[i] - ref[i]));
      scale = Math.max(scale, Math.abs(ref[i]));
    }
    worst = Math.max(worst, Number.isNaN(diff) ? Infinity : diff / scale);
  }
  return worst;
}

/** The index of each row's largest value. */
export function argmaxRows(values: ArrayLike<number>, vocab: number): number[] {
  const out: number[] = [];
  for (let row = 0; row < values.length / vocab; row++) {
    let best = row * vocab;
    for (let i = row * vocab; i < (row + 1) * vocab; i++) if (values[i] > values[best]) best = i;
    out.push(best - row * vocab);
  }
  return out;
}

/** Row by row: cosine of the two logit vectors (min and mean) and how often their top-1 agrees. */
export function compareLogits(a: Float32Array, b: Float32Array, vocab: number): { minCosine: number; meanCosine: number; top1: number } {
  let minCosine = 1;
  let sumCosine = 0;
  const rows = a.length / vocab;
  for (let r = 0; r < rows; r++) {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let i = r * vocab; i < (r + 1) * vocab; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    const cosine = dot / Math.sqrt(na * nb);
    minCosine = Math.min(minCosine, cosine);
    sumCosine += cosine;
  }
  const topA = argmaxRows(a, vocab);
  const topB = argmaxRows(b, vocab);
  const top1 = topA.filter((id, r) => id === topB[r]).length;
  return { minCosine, meanCosine: sumCosine / rows, top1: top1 / rows };
}
