/**
 * The model families the engine runs: LLaMA math (RMSNorm, RoPE, GQA attention, SwiGLU MLP)
 * with, per family, its config.json keys, its hub tensor names and a few switches the forward
 * pass honours (q/k/v biases, per-head q/k RMSNorm, a sliding attention window). Everything else
 * is shared: a family is data here, never a second forward pass.
 *
 * Sources (transformers unless said): modeling_llama.py; modeling_mistral.py (sliding_window on
 * every layer); modeling_qwen2.py (q/k/v biases; use_sliding_window with max_window_layers or
 * layer_types); modeling_qwen3.py (q_norm/k_norm: RMSNorm over head_dim before RoPE); EXAONE 3.x,
 * which ships its modeling file with the repo (trust_remote_code): tensor names
 * transformer.wte / h.N.ln_1 / attn.attention.{q,k,v,out}_proj / ln_2 / mlp.c_fc_0 (gate),
 * c_fc_1 (up), c_proj (down) / ln_f, config keys num_layers, layer_norm_epsilon,
 * activation_function, as vLLM's and SGLang's exaone.py and GPTQModel's EXAONE definition
 * (models/definitions/exaone.py) load them, RoPE in the rotate-half (NeoX) layout.
 */

export const ARCHITECTURES = ['LlamaForCausalLM', 'MistralForCausalLM', 'Qwen2ForCausalLM', 'Qwen3ForCausalLM', 'ExaoneForCausalLM'] as const;

export type Architecture = (typeof ARCHITECTURES)[number];

/** config.json's model_type for each architecture (configs without `architectures` name only this). */
export const MODEL_TYPES: Record<string, Architecture> = {
  llama: 'LlamaForCausalLM',
  mistral: 'MistralForCausalLM',
  qwen2: 'Qwen2ForCausalLM',
  qwen3: 'Qwen3ForCausalLM',
  exaone: 'ExaoneForCausalLM',
};

/** config.json key names that differ between families. */
export interface ConfigKeys {
  numLayers: string;
  rmsNormEps: string;
  activation: string;
}

/** The hub tensor names of one decoder layer; biases and q/k norms only where the family has them. */
export interface LayerTensorNames {
  attnNorm: string;
  q: string;
  k: string;
  v: string;
  o: string;
  qBias: string;
  kBias: string;
  vBias: string;
  qNorm: string;
  kNorm: string;
  ffnNorm: string;
  gate: string;
  up: string;
  down: string;
}

export interface TensorNames {
  embed: string;
  finalNorm: string;
  /** lm_head.weight in every family (weights.ts's hasOwnLmHead relies on it). */
  lmHead: 'lm_head.weight';
  layer(l: number): LayerTensorNames;
}

const LLAMA_KEYS: ConfigKeys = { numLayers: 'num_hidden_layers', rmsNormEps: 'rms_norm_eps', activation: 'hidden_act' };
const EXAONE_KEYS: ConfigKeys = { numLayers: 'num_layers', rmsNormEps: 'layer_norm_epsilon', activation: 'activation_function' };

const LLAMA_NAMES: TensorNames = {
  embed: 'model.embed_tokens.weight',
  finalNorm: 'model.norm.weight',
  lmHead: 'lm_head.weight',
  layer(l) {
    const p = `model.layers.${l}`;
    return {
      attnNorm: `${p}.input_layernorm.weight`,
      q: `${p}.self_attn.q_proj.weight`,
      k: `${p}.self_attn.k_proj.weight`,
      v: `${p}.self_attn.v_proj.weight`,
      o: `${p}.self_attn.o_proj.weight`,
      qBias: `${p}.self_attn.q_proj.bias`,
      kBias: `${p}.self_attn.k_proj.bias`,
      vBias: `${p}.self_attn.v_proj.bias`,
      qNorm: `${p}.self_attn.q_norm.weight`,
      kNorm: `${p}.self_attn.k_norm.weight`,
      ffnNorm: `${p}.post_attention_layernorm.weight`,
      gate: `${p}.mlp.gate_proj.weight`,
      up: `${p}.mlp.up_proj.weight`,
      down: `${p}.mlp.down_proj.weight`,
    };
  },
};

const EXAONE_NAMES: TensorNames = {
  embed: 'transformer.wte.weight',
  finalNorm: 'transformer.ln_f.weight',
  lmHead: 'lm_head.weight',
  layer(l) {
    const p = `transformer.h.${l}`;
    return {
      attnNorm: `${p}.ln_1.weight`,
      q: `${p}.attn.attention.q_proj.weight`,
      k: `${p}.attn.attention.k_proj.weight`,
      v: `${p}.attn.attention.v_proj.weight`,
      o: `${p}.attn.attention.out_proj.weight`,
      qBias: `${p}.attn.attention.q_proj.bias`,
      kBias: `${p}.attn.attention.k_proj.bias`,
      vBias: `${p}.attn.attention.v_proj.bias`,
      qNorm: `${p}.attn.attention.q_norm.weight`,
      kNorm: `${p}.attn.attention.k_norm.weight`,
      ffnNorm: `${p}.ln_2.weight`,
      gate: `${p}.mlp.c_fc_0.weight`,
      up: `${p}.mlp.c_fc_1.weight`,
      down: `${p}.mlp.c_proj.weight`,
    };
  },
};

export interface Family {
  architecture: Architecture;
  keys: ConfigKeys;
  names: TensorNames;
  /** q, k and v projections always carry biases (Qwen2's attention, bias=True). */
  qkvBias: boolean;
  /** q_norm and k_norm: RMSNorm over each head of q and k before RoPE (Qwen3). */
  qkNorm: boolean;
  /**
   * How the sliding window is configured: 'all' layers when config.json's sliding_window is set
   * (Mistral); 'qwen' only with use_sliding_window, on layer_types' "sliding_attention" layers or
   * else layers from max_window_layers on; 'none' ignores it.
   */
  window: 'none' | 'all' | 'qwen';
}

export const FAMILIES: Record<Architecture, Family> = {
  LlamaForCausalLM: { architecture: 'LlamaForCausalLM', keys: LLAMA_KEYS, names: LLAMA_NAMES, qkvBias: false, qkNorm: false, window: 'none' },
  MistralForCausalLM: { architecture: 'MistralForCausalLM', keys: LLAMA_KEYS, names: LLAMA_NAMES, qkvBias: false, qkNorm: false, window: 'all' },
  Qwen2ForCausalLM: { architecture: 'Qwen2ForCausalLM', keys: LLAMA_KEYS, names: LLAMA_NAMES, qkvBias: true, qkNorm: false, window: 'qwen' },
  Qwen3ForCausalLM: { architecture: 'Qwen3ForCausalLM', keys: LLAMA_KEYS, names: LLAMA_NAMES, qkvBias: false, qkNorm: true, window: 'qwen' },
  ExaoneForCausalLM: { architecture: 'ExaoneForCausalLM', keys: EXAONE_KEYS, names: EXAONE_NAMES, qkvBias: false, qkNorm: false, window: 'none' },
};

/** The family of a config.json: its first supported `architectures` entry, else its model_type. */
export function familyOf(architectures: unknown[], modelType: unknown): Family | undefined {
  const named = architectures.find((a): a is Architecture => typeof a === 'string' && (ARCHITECTURES as readonly string[]).includes(a));
  if (named) return FAMILIES[named];
  if (architectures.length === 0 && typeof modelType === 'string' && MODEL_TYPES[modelType]) return FAMILIES[MODEL_TYPES[modelType]];
  return undefined;
}
