/**
 * `npm run -s cli -- selftest`: the engine's correctness checks on whatever adapter this machine
 * has (a GPU where one is lent), against the float64 reference: tiny random MHA and GQA models,
 * logits of every position in f32 and f16 storage (f16 with either KV cache), q4 against f32,
 * and a golden greedy run.
 * Exits non-zero when any check misses its tolerance (the same ones the test suite uses).
 */
import { requestNodeAdapter } from '../gpu/node-gpu';
import { createGpu, type Gpu } from '../gpu/runtime';
import { GREEDY, type LoadOptions } from '../model/llama';
import { argmaxRows, compareLogits, loadTinyModel, rowRelativeError } from '../model/logit-checks';
import { greedyReference, referenceLogits } from '../model/reference';
import { buildTinyModel, type TinyModelSpec } from '../model/tiny-model';

const TOKENS = [1, 450, 4996, 17354, 1701, 432, 17204, 975, 278, 17366, 11203, 29889, 31734, 30709, 29871, 13];
const SPECS: [string, TinyModelSpec][] = [
  ['MHA F16', { hiddenSize: 128, intermediateSize: 352, numLayers: 2, numHeads: 4, numKvHeads: 4, dtype: 'F16', format: 'safetensors', shards: 1, seed: 11 }],
  ['GQA BF16', { hiddenSize: 256, intermediateSize: 704, numLayers: 3, numHeads: 8, numKvHeads: 2, dtype: 'BF16', format: 'safetensors', shards: 2, seed: 12 }],
];

/** Storage modes held to float64, with llama.test.ts's tolerances (and their reasons there). */
const MODES: [string, LoadOptions, number][] = [
  ['f32', { dtype: 'f32' }, 1e-4],
  ['f16, f32 KV cache', { dtype: 'f16', kvFormat: 'f32' }, 1e-4],
  ['f16, f16 KV cache', { dtype: 'f16' }, 2e-3],
];

export interface SelftestCheck {
  name: string;
  value: number;
  pass: boolean;
}

export async function selftest(): Promise<void> {
  const gpu = await createGpu(await requestNodeAdapter(), 'selftest');
  process.stdout.write(`adapter: ${gpu.context.adapter.description} (subgroups ${gpu.subgroups}, shader-f16 ${gpu.context.hasShaderF16})\n`);
  const checks = await runSelftest(gpu, ({ name, value, pass }) => process.stdout.write(`${pass ? 'ok  ' : 'FAIL'} ${name}: ${value.toExponential(3)}\n`));
  const failures = checks.filter((c) => !c.pass).length;
  if (failures > 0) throw new Error(`${failures} self-test check(s) failed`);
}

/** Every check on `gpu`, each reported as it finishes (scripts/gpu-check runs these on a lent GPU too). */
export async function runSelftest(gpu: Gpu, onCheck: (check: SelftestCheck) => void = () => {}): Promise<SelftestCheck[]> {
  const checks: SelftestCheck[] = [];
  const check = (name: string, value: number, pass: boolean) => {
    checks.push({ name, value, pass });
    onCheck({ name, value, pass });
  };
  for (const [label, spec] of SPECS) {
    const tiny = buildTinyModel(spec);
    const vocab = tiny.config.vocabSize;
    const expected = referenceLogits(tiny.config, tiny.weights, TOKENS);
    const expectedTop = argmaxRows(expected, vocab);
    const logitsOf = async (options: LoadOptions) => {
      const model = await loadTinyModel(gpu, tiny, { maxChunk: 16, logitsRows: 16, ...options });
      const values = await model.logits(TOKENS);
      model.dispose();
      return values;
    };
    for (const [mode, options, tolerance] of MODES) {
      const logits = await logitsOf(options);
      const worst = rowRelativeError(logits, expected, vocab);
      const argmaxSame = argmaxRows(logits, vocab).every((id, row) => id === expectedTop[row]);
      check(`${label} ${mode}: max relative logit error vs float64 (every position; limit ${tolerance})`, worst, worst < tolerance && argmaxSame);
    }
    const { minCosine } = compareLogits(await logitsOf({ dtype: 'q4' }), await logitsOf({ dtype: 'f32' }), vocab);
    check(`${label} q4: min cosine of logits vs f32`, minCosine, minCosine > 0.97);

    const prompt = TOKENS.slice(0, 6);
    const reference = greedyReference(tiny.config, tiny.weights, prompt, 6);
    const model = await loadTinyModel(gpu, tiny, { dtype: 'f32', maxChunk: 4 });
    model.setSeenTokens(prompt);
    const generated = [await model.prefill(prompt, 0, GREEDY)];
    for (let i = 1; i < 6; i++) generated.push(await model.decode(prompt.length + i - 1, GREEDY));
    model.dispose();
    const mismatches = generated.filter((id, i) => id !== reference[i]).length;
    check(`${label} golden greedy: mismatched ids of 6`, mismatches, mismatches === 0);
  }
  return checks;
}
