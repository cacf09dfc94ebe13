/**
 * A 7B-shaped model (LLaMA-7B's config: hidden 4096, intermediate 11008, 32 layers, 32 heads,
 * vocab 32000) at q4, with random weights generated on the device: proves the limits check, the
 * memory plan and every kernel hold at full size on this adapter (SwiftShader in CI).
 */
import { expect, it } from 'vitest';
import { ATTENTION_CHUNK } from '../gpu/attention-op';
import { testGpu } from '../gpu/testing';
import { parseConfig } from './config';
import { GREEDY, LlamaModel } from './llama';
import { mib } from './memory-plan';
import { randomWeights } from './random-weights';

const LLAMA_7B_CONFIG = JSON.stringify({
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  hidden_size: 4096,
  intermediate_size: 11008,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  max_position_embeddings: 2048,
  rms_norm_eps: 1e-6,
  vocab_size: 32000,
});

it('7B shape at q4: loads, prefills and decodes on this device; prints the memory plan and peak host memory', async () => {
  const gpu = await testGpu();
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  try {
    const start = performance.now();
    // 300 positions: enough to count a decode step past one attention chunk (ATTENTION_CHUNK).
    const model = await LlamaModel.load(gpu, parseConfig(LLAMA_7B_CONFIG), randomWeights(7), { dtype: 'q4', contextLength: 300, maxChunk: 16 });
    const loaded = performance.now();
    // A 2-token prompt runs the batched GEMV; two more tokens run decode steps. SwiftShader is
    // compute-bound here (~40 s per 7B token), so the test stays this short.
    const prompt = [1, 15043];
    model.setSeenTokens(prompt);
    const ids = [await model.prefill(prompt, 0, GREEDY)];
    const prefilled = performance.now();
    for (let i = 0; i < 2; i++) ids.push(await model.decode(prompt.length + i, GREEDY));
    const decoded = performance.now();
    const { plan } = model;
    // Issue 12: at most 200 dispatches a decoded token, at short and long contexts: embed,
    // 5 a layer (6 past one attention chunk: the split-K merge), lm_head, sample.
    const dispatches = [model.dispatchesPerDecode, model.countDecodeDispatches(ATTENTION_CHUNK), model.countDecodeDispatches(299)];
    model.dispose();
    console.log(
      [
        `7B q4 on ${gpu.context.adapter.description}: weights ${mib(plan.weightBytes)}, KV cache ${mib(plan.kvCacheBytes)}, activations ${mib(plan.activationBytes)}, largest buffer ${plan.largestBinding.name} ${mib(plan.largestBinding.bytes)}`,
        `load ${((loaded - start) / 1000).toFixed(1)} s, prefill ${prompt.length} tokens ${((prefilled - loaded) / 1000).toFixed(1)} s, decode ${(((decoded - prefilled) / 2) / 1000).toFixed(1)} s/token`,
        `peak host memory (RSS; SwiftShader keeps GPU buffers in host memory) ${mib(peakRss)}`,
        `dispatches per decoded token: ${dispatches[0]} (context ${prompt.length + 2}), ${dispatches[2]} (context 300)`,
      ].join('\n'),
    );
    expect(ids.every((id) => Number.isInteger(id) && id >= 0 && id < 32000)).toBe(true);
    expect(dispatches).toEqual([3 + 5 * 32, 3 + 6 * 32, 3 + 6 * 32]);
    expect(Math.max(...dispatches)).toBeLessThanOrEqual(200);
    // 4.5 bits per weight for the 32 layers (6.5e9 weights) plus f16 embedding and lm_head.
    expect(plan.weightBytes / 2 ** 30).toBeGreaterThan(3.7);
    expect(plan.weightBytes / 2 ** 30).toBeLessThan(4.2);
  } finally {
    clearInterval(sampler);
  }
}, 900_000);
