import { describe, expect, it } from 'vitest';
import { sampleOp } from './ops';
import { emptyBuffer, gpuBuffer, randomNormal, readU32, run, seededRandom, stepBuffer, testGpu, writeStep, type TestGpu } from './testing';
import type { StepParams } from './buffers';

interface Settings {
  temperature: number;
  topK: number;
  topP: number;
  repetitionPenalty: number;
}

function pcgHash(v: number): number {
  const state = (Math.imul(v, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/** transformers' processors in float64: the kept ids with their probabilities, in id order. */
function referenceDistribution(logits: Float32Array, seen: Set<number>, s: Settings): Map<number, number> {
  const l = Array.from(logits, (v, i) => {
    let x = v;
    if (seen.has(i)) x = x < 0 ? x * s.repetitionPenalty : x / s.repetitionPenalty;
    return x / s.temperature;
  });
  const sorted = [...l].sort((a, b) => b - a);
  const kth = s.topK > 0 && s.topK < l.length ? sorted[s.topK - 1] : -Infinity;
  const max = sorted[0];
  let kept = l.flatMap((x, i) => (x >= kth ? [i] : []));
  const z = kept.reduce((sum, i) => sum + Math.exp(l[i] - max), 0);
  if (s.topP < 1) {
    // TopPLogitsWarper: keep an id when the mass strictly above it is below top_p (ids sorted by
    // logit once, so a 152k vocabulary's nucleus costs n log n, not n^2).
    const sortedIds = [...kept].sort((a, b) => l[b] - l[a]);
    const massAbove = new Map<number, number>();
    let running = 0;
    for (let at = 0; at < sortedIds.length; ) {
      let end = at;
      while (end < sortedIds.length && l[sortedIds[end]] === l[sortedIds[at]]) end++;
      for (let k = at; k < end; k++) massAbove.set(sortedIds[k], running);
      for (let k = at; k < end; k++) running += Math.exp(l[sortedIds[k]] - max) / z;
      at = end;
    }
    kept = kept.filter((i) => massAbove.get(i)! < s.topP);
  }
  const zKept = kept.reduce((sum, i) => sum + Math.exp(l[i] - max), 0);
  return new Map(kept.map((i) => [i, Math.exp(l[i] - max) / zKept]));
}

function referencePick(distribution: Map<number, number>, seed: number, position: number): number {
  const u = (pcgHash((seed ^ pcgHash(position)) >>> 0) >>> 8) / 16777216;
  let running = 0;
  let last = -1;
  for (const [id, p] of distribution) {
    last = id;
    running += p;
    if (u < running) return id;
  }
  return last;
}

async function setup(t: TestGpu, logits: Float32Array, seen: number[], planned = false) {
  const vocab = logits.length;
  const bits = new Uint32Array(Math.ceil(vocab / 32));
  for (const id of seen) bits[id >> 5] |= 1 << (id & 31);
  const step = stepBuffer(t, { nTokens: 1, pos0: 0 });
  const seenBuffer = gpuBuffer(t, 'seen', bits);
  const ids = emptyBuffer(t, 'ids', 4);
  const op = await sampleOp(t, { label: 'sample', step, logits: gpuBuffer(t, 'logits', logits), seen: seenBuffer, work: emptyBuffer(t, 'work', vocab * 4), ids, vocab });
  return {
    /** One draw from the initial seen set (the kernel adds each pick to it). */
    async draw(params: StepParams): Promise<number> {
      t.device.queue.writeBuffer(seenBuffer, 0, bits);
      writeStep(t, step, params);
      // As LlamaModel records a step: only the passes these settings need.
      if (planned) op.plan({ temperature: params.temperature ?? 0, topK: params.topK ?? 0, topP: params.topP ?? 1, vocabLimit: params.vocabLimit });
      run(t, 1, op);
      return (await readU32(t, ids, 1))[0];
    },
    seenBits: () => readU32(t, seenBuffer),
  };
}

describe('sample', () => {
  const vocab = 1003;

  it('greedy takes the first maximal id, after the repetition penalty', async () => {
    const t = await testGpu();
    const logits = randomNormal(seededRandom(1), vocab);
    logits[17] = 9;
    logits[400] = 9; // a tie: the first index wins, as torch.argmax
    logits[900] = 10; // seen and penalised 1.3x: 10 / 1.3 < 9
    const sampler = await setup(t, logits, [900]);
    expect(await sampler.draw({ nTokens: 1, pos0: 0, temperature: 0, repetitionPenalty: 1 })).toBe(900);
    expect(await sampler.draw({ nTokens: 1, pos0: 0, temperature: 0, repetitionPenalty: 1.3 })).toBe(17);
    expect(await sampler.draw({ nTokens: 1, pos0: 0, temperature: 0, repetitionPenalty: 1.3, vocabLimit: 17 })).not.toBe(17);
    // The chosen id joins the seen set for the next step's penalty.
    await sampler.draw({ nTokens: 1, pos0: 0, temperature: 0, repetitionPenalty: 1.3 });
    expect(((await sampler.seenBits())[17 >> 5] >>> (17 & 31)) & 1).toBe(1);
  });

  it.each<Settings>([
    { temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1 },
    { temperature: 0.7, topK: 40, topP: 1, repetitionPenalty: 1 },
    { temperature: 0.8, topK: 0, topP: 0.9, repetitionPenalty: 1.1 },
    { temperature: 1.3, topK: 7, topP: 0.6, repetitionPenalty: 1.2 },
  ])('draws what the float64 reference draws with the same seed: %o', async (settings) => {
    const t = await testGpu();
    const logits = randomNormal(seededRandom(2), vocab, 2.5);
    const seen = [3, 50, 51, 700];
    const sampler = await setup(t, logits, seen);
    const distribution = referenceDistribution(logits, new Set(seen), settings);
    let agree = 0;
    const draws = 60;
    for (let position = 0; position < draws; position++) {
      const seed = 1234 + position * 7;
      const id = await sampler.draw({ nTokens: 1, pos0: position, seed, ...settings });
      expect(distribution.has(id), `id ${id} outside the kept set`).toBe(true);
      if (id === referencePick(distribution, seed, position)) agree++;
    }
    // The same u walks the same cumulative distribution; only a u within float32 rounding of a
    // boundary could differ, which these seeds never hit.
    expect(agree).toBe(draws);
  });

  it('empirical frequencies follow the top-k / top-p distribution', async () => {
    const t = await testGpu();
    const logits = randomNormal(seededRandom(3), vocab, 1.5);
    const settings = { temperature: 0.9, topK: 12, topP: 0.8, repetitionPenalty: 1 };
    const sampler = await setup(t, logits, []);
    const distribution = referenceDistribution(logits, new Set(), settings);
    const counts = new Map<number, number>();
    const draws = 600;
    for (let position = 0; position < draws; position++) {
      const id = await sampler.draw({ nTokens: 1, pos0: position, seed: 99, ...settings });
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    let chiSquare = 0;
    for (const [id, p] of distribution) chiSquare += ((counts.get(id) ?? 0) - draws * p) ** 2 / (draws * p);
    for (const id of counts.keys()) expect(distribution.has(id)).toBe(true);
    // Kept set is at most 12 ids (11 degrees of freedom): chi-square 0.999 quantile is 31.3.
    expect(distribution.size).toBeLessThanOrEqual(12);
    expect(chiSquare).toBeLessThan(31.3);
  });
});

// A vocabulary of 15 slices of 2048 ids (Qwen's 152k has 75), each scanned by its own
// workgroup, with a tokenizer smaller than the lm_head as Qwen's. Steps recorded as LlamaModel
// records them (planned) and with every pass (the kernels skip what the settings do not use)
// must agree.
describe('sample over many slices of a vocabulary padded past its tokenizer', () => {
  const vocab = 30011;
  const limit = 29900;

  it('greedy takes the first maximal id below the limit, planned or not', async () => {
    const t = await testGpu();
    const logits = randomNormal(seededRandom(4), vocab);
    logits[29950] = 50; // past the tokenizer: never taken
    logits[9001] = 12;
    logits[24000] = 12; // a tie across slices: the first wins
    logits[3000] = 13; // seen, penalised 1.3x: 10 < 12
    for (const planned of [false, true]) {
      const sampler = await setup(t, logits, [3000], planned);
      expect(await sampler.draw({ nTokens: 1, pos0: 0, temperature: 0, repetitionPenalty: 1.3, vocabLimit: limit })).toBe(9001);
      expect(await sampler.draw({ nTokens: 1, pos0: 0, temperature: 0, repetitionPenalty: 1, vocabLimit: limit })).toBe(3000);
    }
  });

  it.each<Settings>([
    { temperature: 0.7, topK: 40, topP: 1, repetitionPenalty: 1 },
    { temperature: 0.7, topK: 40, topP: 0.9, repetitionPenalty: 1.1 },
    { temperature: 0.6, topK: 0, topP: 0.9, repetitionPenalty: 1 },
  ])('draws what the float64 reference draws with the same seed: %o', async (settings) => {
    const t = await testGpu();
    // Peaked like a trained model's: a few hundred ids hold most of the mass (top-p alone keeps few).
    const logits = randomNormal(seededRandom(5), vocab, 3);
    const seen = [7, 10000, 29000];
    const distribution = referenceDistribution(logits.slice(0, limit), new Set(seen), settings);
    for (const planned of [false, true]) {
      const sampler = await setup(t, logits, seen, planned);
      for (let position = 0; position < 8; position++) {
        const seed = 77 + position * 13;
        const id = await sampler.draw({ nTokens: 1, pos0: position, seed, vocabLimit: limit, ...settings });
        expect(id, `planned ${planned}, position ${position}`).toBe(referencePick(distribution, seed, position));
      }
    }
  });
});
