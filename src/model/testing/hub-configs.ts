/**
 * config.json of hub repos the families are for, as those repos ship them (tests and the memory
 * plans in BENCHMARKS.md): the planner and the config reader see exactly what a download gives.
 */

export const LLAMA_1_7B = {
  architectures: ['LlamaForCausalLM'], bos_token_id: 1, eos_token_id: 2, hidden_act: 'silu', hidden_size: 4096, initializer_range: 0.02, intermediate_size: 11008, max_position_embeddings: 2048,
  model_type: 'llama', num_attention_heads: 32, num_hidden_layers: 32, pad_token_id: 0, rms_norm_eps: 1e-6, tie_word_embeddings: false, torch_dtype: 'float16', transformers_version: '4.28.0.dev0', use_cache: true, vocab_size: 32000,
};

/** meta-llama/Llama-3.1-8B(-Instruct). */
export const LLAMA_31_8B = {
  architectures: ['LlamaForCausalLM'], attention_bias: false, attention_dropout: 0, bos_token_id: 128000, eos_token_id: [128001, 128008, 128009], hidden_act: 'silu', hidden_size: 4096, initializer_range: 0.02,
  intermediate_size: 14336, max_position_embeddings: 131072, mlp_bias: false, model_type: 'llama', num_attention_heads: 32, num_hidden_layers: 32, num_key_value_heads: 8, pretraining_tp: 1, rms_norm_eps: 1e-5,
  rope_scaling: { factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192, rope_type: 'llama3' }, rope_theta: 500000, tie_word_embeddings: false, torch_dtype: 'bfloat16',
  transformers_version: '4.43.0.dev0', use_cache: true, vocab_size: 128256,
};

/** meta-llama/Llama-3.2-1B(-Instruct): an explicit head_dim, tied embeddings. */
export const LLAMA_32_1B = {
  ...LLAMA_31_8B, head_dim: 64, hidden_size: 2048, intermediate_size: 8192, num_hidden_layers: 16, num_key_value_heads: 8,
  rope_scaling: { factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192, rope_type: 'llama3' }, tie_word_embeddings: true,
};

/** Qwen/Qwen2.5-7B-Instruct. */
export const QWEN25_7B = {
  architectures: ['Qwen2ForCausalLM'], attention_dropout: 0, bos_token_id: 151643, eos_token_id: 151645, hidden_act: 'silu', hidden_size: 3584, initializer_range: 0.02, intermediate_size: 18944,
  max_position_embeddings: 32768, max_window_layers: 28, model_type: 'qwen2', num_attention_heads: 28, num_hidden_layers: 28, num_key_value_heads: 4, rms_norm_eps: 1e-6, rope_scaling: null, rope_theta: 1000000,
  sliding_window: 131072, tie_word_embeddings: false, torch_dtype: 'bfloat16', transformers_version: '4.43.1', use_cache: true, use_sliding_window: false, vocab_size: 152064,
};

/** Qwen/Qwen3-0.6B: q/k norms, head_dim 128 with hidden 1024 and 16 heads. */
export const QWEN3_06B = {
  architectures: ['Qwen3ForCausalLM'], attention_bias: false, attention_dropout: 0, bos_token_id: 151643, eos_token_id: 151645, head_dim: 128, hidden_act: 'silu', hidden_size: 1024, initializer_range: 0.02,
  intermediate_size: 3072, max_position_embeddings: 40960, max_window_layers: 28, model_type: 'qwen3', num_attention_heads: 16, num_hidden_layers: 28, num_key_value_heads: 8, rms_norm_eps: 1e-6,
  rope_scaling: null, rope_theta: 1000000, sliding_window: null, tie_word_embeddings: true, torch_dtype: 'bfloat16', use_cache: true, use_sliding_window: false, vocab_size: 151936,
};

/** mistralai/Mistral-7B-v0.1: a 4096-key sliding window. */
export const MISTRAL_7B_V01 = {
  architectures: ['MistralForCausalLM'], bos_token_id: 1, eos_token_id: 2, hidden_act: 'silu', hidden_size: 4096, initializer_range: 0.02, intermediate_size: 14336, max_position_embeddings: 32768,
  model_type: 'mistral', num_attention_heads: 32, num_hidden_layers: 32, num_key_value_heads: 8, rms_norm_eps: 1e-5, rope_theta: 10000, sliding_window: 4096, tie_word_embeddings: false, torch_dtype: 'bfloat16', vocab_size: 32000,
};

/** LGAI-EXAONE/EXAONE-3.5-2.4B-Instruct: ExaoneConfig's own key names. */
export const EXAONE_35_24B = {
  activation_function: 'silu', architectures: ['ExaoneForCausalLM'], attention_dropout: 0, bos_token_id: 1, embed_dropout: 0, eos_token_id: 361, head_dim: 80, hidden_size: 2560, initializer_range: 0.02,
  intermediate_size: 7168, layer_norm_epsilon: 1e-5, max_position_embeddings: 32768, model_type: 'exaone', num_attention_heads: 32, num_key_value_heads: 8, num_layers: 30, pad_token_id: 0,
  rope_scaling: { factor: 8, high_freq_factor: 4, low_freq_factor: 1, original_max_position_embeddings: 8192, rope_type: 'llama3' }, rope_theta: 1000000, tie_word_embeddings: true, torch_dtype: 'bfloat16', vocab_size: 102400,
};
