import { describe, expect, it } from 'vitest';
import { isEngineError } from '../errors';
import { parseConfig } from './config';
import { checkPlanFits, planMemory } from './memory-plan';
import { matchTensors, weightLayout } from './weights';
import type { TensorRecord } from '../loader/types';

const LLAMA_7B = {
  architectures: ['LlamaForCausalLM'],
  bos_token_id: 1,
  eos_token_id: 2,
  hidden_act: 'silu',
  hidden_size: 4096,
  initializer_range: 0.02,
  intermediate_size: 11008,
  max_position_embeddings: 2048,
  model_type: 'llama',
  num_attention_heads: 32,
  num_hidden_layers: 32,
  pad_token_id: 0,
  rms_norm_eps: 1e-6,
  tie_word_embeddings: false,
  torch_dtype: 'float16',
  transformers_version: '4.28.0.dev0',
  use_cache: true,
  vocab_size: 32000,
};

function badModel(json: unknown): string {
  try {
    parseConfig(typeof json === 'string' ? json : JSON.stringify(json));
  } catch (error) {
    if (isEngineError(error, 'bad-model')) return error.message;
    throw error;
  }
  throw new Error('expected a bad-model error');
}

describe('parseConfig', () => {
  it('reads a LLaMA-1 7B config (the Korean-Vicuna base) with LLaMA-1 defaults', () => {
    const config = parseConfig(JSON.stringify(LLAMA_7B));
    expect(config).toMatchObject({ hiddenSize: 4096, numKvHeads: 32, headDim: 128, ropeTheta: 10000, maxPositions: 2048, eosTokenIds: [2], tieWordEmbeddings: false });
  });

  it('reads LLaMA-3 style keys: GQA, rope_theta, llama3 rope scaling, eos list', () => {
    const config = parseConfig(
      JSON.stringify({
        ...LLAMA_7B,
        num_key_value_heads: 8,
        rope_theta: 500000,
        eos_token_id: [128001, 128009],
        vocab_size: 128256,
        rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 },
      }),
    );
    expect(config).toMatchObject({ numKvHeads: 8, ropeTheta: 500000, eosTokenIds: [128001, 128009], ropeScaling: { type: 'llama3', factor: 8 } });
  });

  it.each<[string, unknown, RegExp]>([
    ['not JSON', '{hidden', /not valid JSON/],
    ['an array', [], /not a JSON object/],
    ['another architecture', { ...LLAMA_7B, model_type: 'gpt2', architectures: ['GPT2LMHeadModel'] }, /not a LLaMA-architecture/],
    ['a missing key', { ...LLAMA_7B, hidden_size: undefined }, /missing "hidden_size"/],
    ['a negative size', { ...LLAMA_7B, intermediate_size: -1 }, /"intermediate_size" must be an integer/],
    ['a fractional size', { ...LLAMA_7B, num_hidden_layers: 2.5 }, /"num_hidden_layers" must be an integer/],
    ['absurd layers', { ...LLAMA_7B, num_hidden_layers: 1e9 }, /"num_hidden_layers"/],
    ['absurd vocab', { ...LLAMA_7B, vocab_size: 1e12 }, /"vocab_size"/],
    ['heads not dividing hidden', { ...LLAMA_7B, num_attention_heads: 31 }, /not divisible/],
    ['kv heads not dividing heads', { ...LLAMA_7B, num_key_value_heads: 5 }, /not a multiple of num_key_value_heads/],
    ['zero eps', { ...LLAMA_7B, rms_norm_eps: 0 }, /"rms_norm_eps"/],
    ['NaN-like theta', { ...LLAMA_7B, rope_theta: 'inf' }, /"rope_theta"/],
    ['unknown rope scaling', { ...LLAMA_7B, rope_scaling: { type: 'yarn', factor: 4 } }, /rope_scaling type "yarn"/],
    ['a different activation', { ...LLAMA_7B, hidden_act: 'gelu' }, /hidden_act/],
    ['attention biases', { ...LLAMA_7B, attention_bias: true }, /attention_bias/],
    ['head dim over 256', { ...LLAMA_7B, num_attention_heads: 8 }, /"head_dim" must be an integer in \[4, 256\]/],
  ])('rejects %s', (_, json, message) => {
    expect(badModel(json)).toMatch(message);
  });
});

describe('weight map and memory plan', () => {
  const config = parseConfig(JSON.stringify({ ...LLAMA_7B, num_hidden_layers: 1, hidden_size: 64, intermediate_size: 96, num_attention_heads: 4, vocab_size: 100 }));
  const record = (name: string, shape: number[]): TensorRecord => ({ name, shape, dtype: 'F16', file: 'model.safetensors', offset: 0, byteLength: shape.reduce((a, b) => a * b) * 2 });
  const tensors = (): TensorRecord[] => [
    record('model.embed_tokens.weight', [100, 64]),
    ...['q', 'k', 'v', 'o'].map((p) => record(`model.layers.0.self_attn.${p}_proj.weight`, [64, 64])),
    record('model.layers.0.mlp.gate_proj.weight', [96, 64]),
    record('model.layers.0.mlp.up_proj.weight', [96, 64]),
    record('model.layers.0.mlp.down_proj.weight', [64, 96]),
    record('model.layers.0.input_layernorm.weight', [64]),
    record('model.layers.0.post_attention_layernorm.weight', [64]),
    record('model.layers.0.self_attn.rotary_emb.inv_freq', [8]), // LLaMA-1 checkpoints carry it: ignored
    record('model.norm.weight', [64]),
    record('lm_head.weight', [100, 64]),
  ];
  const layout = weightLayout(config, 'f16', true);

  it('places every tensor, fusing q/k/v and gate/up', () => {
    const matched = matchTensors(layout, tensors());
    expect(matched).toHaveLength(tensors().length - 1);
    const v = matched.find((m) => m.record.name.endsWith('v_proj.weight'))!;
    expect(v.placements).toEqual([{ kind: 'matrix', key: 'layers.0.qkv', rowOffset: 128, rows: 64, cols: 64 }]);
  });

  it.each<[string, (list: TensorRecord[]) => TensorRecord[], RegExp]>([
    ['a wrong shape', (list) => list.map((t) => (t.name === 'model.layers.0.mlp.up_proj.weight' ? { ...t, shape: [64, 96] } : t)), /has shape \[64,96\], config.json implies \[96,64\]/],
    ['a missing tensor', (list) => list.filter((t) => t.name !== 'model.norm.weight'), /Missing 1 tensor\(s\): model.norm.weight/],
    ['an unexpected tensor', (list) => [...list, record('model.layers.0.self_attn.q_proj.bias', [64])], /Unexpected tensor .*q_proj.bias/],
    ['a duplicate tensor', (list) => [...list, list[0]], /appears twice/],
  ])('rejects %s', (_, edit, message) => {
    expect(() => matchTensors(layout, edit(tensors()))).toThrow(expect.objectContaining({ code: 'bad-model', message: expect.stringMatching(message) }));
  });

  it('a buffer beyond the device limit is an unsupported error naming it, before any allocation', () => {
    const big = parseConfig(JSON.stringify(LLAMA_7B));
    const plan = planMemory(big, weightLayout(big, 'f32', true), { contextLength: 2048, maxChunk: 256, logitsRows: 1, kvFormat: 'f32' });
    const limits = { maxStorageBufferBindingSize: 256 << 20, maxBufferSize: 1 << 30 } as GPUSupportedLimits;
    expect(() => checkPlanFits(plan, limits)).toThrow(expect.objectContaining({ code: 'unsupported', message: expect.stringMatching(/embed needs a 500 MiB buffer/) }));
    expect(plan.weightBytes).toBeGreaterThan(26e9);
  });
});
