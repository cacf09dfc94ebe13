/**
 * `npm run -s cli -- selftest`: the engine's correctness checks on whatever adapter this machine
 * has (a GPU where one is lent), against the float64 reference: tiny random MHA and GQA models,
 * logits of every position in f32 and f16 storage, q4 against f32, and a golden greedy run.
 * Exits non-zero when any check misses its tolerance (the same ones the test suite uses).
 */
import { requestNodeAdapter } from '../gpu/node-gpu';
import { createGpu } from '../gpu/runtime';
import { MemorySource } from '../loader/sources/memory-source';
import { discoverWeights } from '../loader/weights-index';
import { parseConfig } from '../model/config';
import { GREEDY, LlamaModel } from '../model/llama';
import { checkpointWeights } from '../model/load-weights';
import { referenceLogits } from '../model/reference';
import { buildTinyModel, type TinyModelSpec } from '../model/tiny-model';
import type { ModelDtype } from '../model/weights';

const TOKENS = [1, 450, 4996, 17354, 1701, 432, 17204, 975, 278, 17366, 11203, 29889, 31734, 30709, 29871, 13];
const SPECS: [string, TinyModelSpec][] = [
  ['MHA F16', { hiddenSize: 128, intermediateSize: 352, numLayers: 2, numHeads: 4, numKvHeads: 4, dtype: 'F16', format: 'safetensors', shards: 1, seed: 11 }],
  ['GQA BF16', { hiddenSize: 256, intermediateSize: 704, numLayers: 3, numHeads: 8, numKvHeads: 2, dtype: 'BF16', format: 'safetensors', shards: 2, seed: 12 }],
];

function argmax(values: ArrayLike<number>, from: number, count: number): number {
  let best = from;
  for (let i = from; i < from + count; i++) if (values[i] > values[best]) best = i;
  return best - from;
}

export async function selftest(): Promise<void> {
  const gpu = await createGpu(await requestNodeAdapter(), 'selftest');
  process.stdout.write(`adapter: ${gpu.context.adapter.description} (subgroups ${gpu.subgroups}, shader-f16 ${gpu.context.hasShaderF16})\n`);
  let failures = 0;
  const check = (name: string, value: number, pass: boolean, unit = '') => {
    if (!pass) failures++;
    process.stdout.write(`${pass ? 'ok  ' : 'FAIL'} ${name}: ${value.toExponential(3)}${unit}\n`);
  };
  for (const [label, spec] of SPECS) {
    const tiny = buildTinyModel(spec);
    const vocab = tiny.config.vocabSize;
    const source = new MemorySource(tiny.files);
    const config = parseConfig(new TextDecoder().decode(tiny.files.get('config.json')));
    const { tensors } = await discoverWeights(source);
    const expected = referenceLogits(tiny.config, tiny.weights, TOKENS);
    const logitsOf = async (dtype: ModelDtype) => {
      const model = await LlamaModel.load(gpu, config, checkpointWeights(tensors, source), { dtype, maxChunk: 16, logitsRows: 16 });
      const values = await model.logits(TOKENS);
      model.dispose();
      return values;
    };
    for (const dtype of ['f32', 'f16'] as const) {
      const logits = await logitsOf(dtype);
      let worst = 0;
      let argmaxSame = true;
      for (let row = 0; row < TOKENS.length; row++) {
        let diff = 0;
        let scale = 0;
        for (let i = row * vocab; i < (row + 1) * vocab; i++) {
          diff = Math.max(diff, Math.abs(logits[i] - expected[i]));
          scale = Math.max(scale, Math.abs(expected[i]));
        }
        worst = Math.max(worst, Number.isNaN(diff) ? Infinity : diff / scale);
        argmaxSame &&= argmax(logits, row * vocab, vocab) === argmax(expected, row * vocab, vocab);
      }
      check(`${label} ${dtype}: max relative logit error vs float64 (every position)`, worst, worst < 1e-4 && argmaxSame);
    }
    const exact = await logitsOf('f32');
    const q4 = await logitsOf('q4');
    let minCosine = 1;
    for (let row = 0; row < TOKENS.length; row++) {
      let dot = 0;
      let na = 0;
      let nb = 0;
      for (let i = row * vocab; i < (row + 1) * vocab; i++) {
        dot += q4[i] * exact[i];
        na += q4[i] ** 2;
        nb += exact[i] ** 2;
      }
      minCosine = Math.min(minCosine, dot / Math.sqrt(na * nb));
    }
    check(`${label} q4: min cosine of logits vs f32`, minCosine, minCosine > 0.97);

    const prompt = TOKENS.slice(0, 6);
    const reference = [...prompt];
    for (let i = 0; i < 6; i++) reference.push(argmax(referenceLogits(tiny.config, tiny.weights, reference), (reference.length - 1) * vocab, vocab));
    const model = await LlamaModel.load(gpu, config, checkpointWeights(tensors, source), { dtype: 'f32', maxChunk: 4 });
    model.setSeenTokens(prompt);
    const generated = [await model.prefill(prompt, 0, GREEDY)];
    for (let i = 1; i < 6; i++) generated.push(await model.decode(prompt.length + i - 1, GREEDY));
    model.dispose();
    const mismatches = generated.filter((id, i) => id !== reference[prompt.length + i]).length;
    check(`${label} golden greedy: mismatched ids of 6`, mismatches, mismatches === 0);
  }
  if (failures > 0) throw new Error(`${failures} self-test check(s) failed`);
}
