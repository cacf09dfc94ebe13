import { describe, expect, it } from 'vitest';
import { TOKEN_SCORE_WORDS, TOP_LOGPROBS, tokenLogprobsOp } from './ops';
import { emptyBuffer, gpuBuffer, randomNormal, readU32, run, seededRandom, testGpu } from './testing';

/** float64 log_softmax of each row: the target's value and the top ids (larger first, then smaller id). */
function reference(logits: Float32Array, targets: number[], vocab: number) {
  return targets.map((target, row) => {
    const values = Array.from(logits.subarray(row * vocab, (row + 1) * vocab));
    const max = values.reduce((a, b) => Math.max(a, b)); // no spread: 152k arguments overflow the stack
    const lse = max + Math.log(values.reduce((sum, v) => sum + Math.exp(v - max), 0));
    const order = values.map((_, id) => id).sort((a, b) => values[b] - values[a] || a - b);
    const top = order.slice(0, TOP_LOGPROBS);
    return { logprob: values[target] - lse, topIds: top, topLogprobs: top.map((id) => values[id] - lse) };
  });
}

describe('token_logprobs', () => {
  // Odd vocabularies (not multiples of the workgroup), LLaMA's 32000, Qwen's 151,936 (each
  // thread's share 1187 ids), and an odd row count.
  it.each([
    [1003, 7],
    [32000, 3],
    [4099, 1],
    [151936, 2],
  ])('matches float64 log_softmax and its top ids: vocab %i, %i rows', async (vocab, rows) => {
    const t = await testGpu();
    const random = seededRandom(vocab + rows);
    const logits = randomNormal(random, rows * vocab, 3);
    // Exact ties at the top of row 0: the smaller id ranks first, as the reference orders them.
    logits[vocab - 2] = 20;
    logits[5] = 20;
    logits[400 % vocab] = 19;
    const targets = Array.from({ length: rows }, () => Math.floor(random() * vocab));
    targets[0] = 5; // a target that is the row's maximum
    const out = emptyBuffer(t, 'out', rows * TOKEN_SCORE_WORDS * 4);
    const op = await tokenLogprobsOp(t, { label: 'token logprobs', logits: gpuBuffer(t, 'logits', logits), targets: gpuBuffer(t, 'targets', Uint32Array.from(targets)), out, vocab });
    run(t, rows, op);
    const words = await readU32(t, out);
    const floats = new Float32Array(words.buffer);
    const expected = reference(logits, targets, vocab);
    let worst = 0;
    for (let row = 0; row < rows; row++) {
      const at = row * TOKEN_SCORE_WORDS;
      const topIds = Array.from(words.subarray(at + 1, at + 1 + TOP_LOGPROBS));
      // Ids are chosen by comparing the same float32 values the reference sorts: exact.
      expect(topIds, `row ${row}`).toEqual(expected[row].topIds);
      worst = Math.max(worst, Math.abs(floats[at] - expected[row].logprob));
      expected[row].topLogprobs.forEach((value, k) => (worst = Math.max(worst, Math.abs(floats[at + 1 + TOP_LOGPROBS + k] - value))));
    }
    expect(Array.from(words.subarray(1, 3))).toEqual([5, vocab - 2]);
    console.log(`vocab ${vocab}: max |logprob error| ${worst.toExponential(2)}`);
    // The sum of up to 151,936 exp() terms in f32 (tree order, relative error ~1e-6) and WGSL's
    // exp/log (3 + 2|x| ulp on SwiftShader, |x| <= ~40 here) put the log-probabilities within
    // ~1e-5 of float64; 1e-4 leaves room for other drivers. A wrong row or id is off by O(1).
    expect(worst).toBeLessThan(1e-4);
  });
});
