import { describe, expect, it } from 'vitest';
import { isEngineError } from '../errors';
import { parseConfig } from './config';
import { checkPlanFits, planMemory } from './memory-plan';
import { matchTensors, weightLayout } from './weights';
import type { TensorRecord } from '../loader/types';
import { EXAONE_35_24B, LLAMA_31_8B, LLAMA_32_1B, MISTRAL_7B_V01, QWEN25_7B, QWEN3_06B } from './testing/hub-configs';

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
    ['another architecture, by name, with the supported list', { ...LLAMA_7B, model_type: 'gpt2', architectures: ['GPT2LMHeadModel'] }, /GPT2LMHeadModel is not supported: this engine runs LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, ExaoneForCausalLM/],
    ['a mixture of experts', { ...LLAMA_7B, model_type: 'qwen2_moe', architectures: ['Qwen2MoeForCausalLM'] }, /Qwen2MoeForCausalLM is not supported/],
    ['an unknown model_type without architectures', { ...LLAMA_7B, model_type: 'gemma2', architectures: undefined }, /model_type "gemma2" is not supported/],
    ['layer types that do not list the layers', { ...LLAMA_7B, architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', use_sliding_window: true, sliding_window: 4096, layer_types: ['full_attention'] }, /"layer_types"/],
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
    ['MLP biases', { ...LLAMA_7B, mlp_bias: true }, /mlp_bias/],
    ['head dim over 256', { ...LLAMA_7B, num_attention_heads: 8 }, /"head_dim" must be an integer in \[4, 256\]/],
  ])('rejects %s', (_, json, message) => {
    expect(badModel(json)).toMatch(message);
  });
});

describe('families', () => {
  const read = (json: unknown) => parseConfig(JSON.stringify(json));

  it('Llama-3.1-8B: GQA, llama3 rope, three eos ids, its own lm_head', () => {
    expect(read(LLAMA_31_8B)).toMatchObject({ architecture: 'LlamaForCausalLM', numKvHeads: 8, headDim: 128, eosTokenIds: [128001, 128008, 128009], tieWordEmbeddings: false, qkvBias: false, qkNorm: false, ropeScaling: { type: 'llama3', factor: 8 } });
  });

  it('Llama-3.2-1B: an explicit head_dim and tied embeddings', () => {
    expect(read(LLAMA_32_1B)).toMatchObject({ headDim: 64, tieWordEmbeddings: true, numLayers: 16 });
  });

  it('Qwen2.5-7B: q/k/v biases; its sliding_window is ignored without use_sliding_window', () => {
    const config = read(QWEN25_7B);
    expect(config).toMatchObject({ architecture: 'Qwen2ForCausalLM', qkvBias: true, qkNorm: false, headDim: 128, vocabSize: 152064 });
    expect(config.layerWindows).toEqual(new Array(28).fill(0));
  });

  it('Qwen2 with use_sliding_window: windowed from max_window_layers on, or as layer_types says', () => {
    expect(read({ ...QWEN25_7B, use_sliding_window: true, sliding_window: 4096, max_window_layers: 26 }).layerWindows).toEqual([...new Array(26).fill(0), 4096, 4096]);
    const layerTypes = Array.from({ length: 28 }, (_, l) => (l % 2 === 0 ? 'sliding_attention' : 'full_attention'));
    expect(read({ ...QWEN25_7B, use_sliding_window: true, sliding_window: 512, layer_types: layerTypes }).layerWindows.slice(0, 3)).toEqual([512, 0, 512]);
  });

  it('Qwen3-0.6B: q/k norms, head_dim 128 with hidden 1024 and 16 heads', () => {
    expect(read(QWEN3_06B)).toMatchObject({ architecture: 'Qwen3ForCausalLM', qkNorm: true, qkvBias: false, headDim: 128, hiddenSize: 1024, tieWordEmbeddings: true });
  });

  it('Mistral-7B-v0.1: a 4096-key window on every layer; none when sliding_window is null', () => {
    expect(read(MISTRAL_7B_V01).layerWindows).toEqual(new Array(32).fill(4096));
    expect(read({ ...MISTRAL_7B_V01, sliding_window: null }).layerWindows).toEqual(new Array(32).fill(0));
  });

  it("EXAONE 3.5 2.4B: ExaoneConfig's own key names", () => {
    expect(read(EXAONE_35_24B)).toMatchObject({ architecture: 'ExaoneForCausalLM', numLayers: 30, rmsNormEps: 1e-5, headDim: 80, tieWordEmbeddings: true, eosTokenIds: [361] });
    expect(() => read({ ...EXAONE_35_24B, activation_function: 'gelu' })).toThrow(/activation_function "gelu"/);
  });

  it('a config without architectures is read by its model_type', () => {
    expect(read({ ...QWEN3_06B, architectures: undefined }).architecture).toBe('Qwen3ForCausalLM');
  });

  it('an unsupported architecture carries its name and the supported list as detail', () => {
    expect(() => read({ ...LLAMA_7B, architectures: ['GemmaForCausalLM'], model_type: 'gemma' })).toThrow(
      expect.objectContaining({ code: 'bad-model', detail: { architecture: 'GemmaForCausalLM', supported: 'LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, ExaoneForCausalLM' } }),
    );
  });

  it('q4 stores a large table and lm_head in q4 (Llama-3, Qwen2.5), a 7B LLaMA-1 table in f16', () => {
    const formats = (json: unknown, hasLmHead: boolean) => Object.fromEntries(weightLayout(read(json), 'q4', hasLmHead).matrices.filter((m) => m.key === 'embed' || m.key === 'lm_head').map((m) => [m.key, m.format]));
    expect(formats(LLAMA_31_8B, true)).toEqual({ embed: 'q4', lm_head: 'q4' });
    expect(formats(QWEN25_7B, true)).toEqual({ embed: 'q4', lm_head: 'q4' });
    expect(formats(LLAMA_32_1B, false)).toEqual({ embed: 'q4' }); // tied: one q4 table serves both
    expect(formats(EXAONE_35_24B, false)).toEqual({ embed: 'q4' });
    expect(formats(LLAMA_7B, true)).toEqual({ embed: 'f16', lm_head: 'f16' });
    expect(Object.fromEntries(weightLayout(read(LLAMA_31_8B), 'f16', true).matrices.filter((m) => m.key === 'embed').map((m) => [m.key, m.format]))).toEqual({ embed: 'f16' });
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

  it('a matrix beyond the device limit is split into row blocks, never refused', () => {
    const big = parseConfig(JSON.stringify(LLAMA_7B));
    const limits = { maxStorageBufferBindingSize: 256 << 20, maxBufferSize: 1 << 30 } as GPUSupportedLimits;
    const plan = planMemory(big, weightLayout(big, 'f32', true), { contextLength: 2048, maxChunk: 256, logitsRows: 1, kvFormat: 'f32' }, 256 << 20);
    expect(plan.blockRows.get('embed')).toBe(16384); // 500 MiB of f32 rows in 2 blocks
    expect(() => checkPlanFits(plan, limits)).not.toThrow();
    expect(plan.weightBytes).toBeGreaterThan(26e9);
  });
});
