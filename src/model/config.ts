/**
 * A config.json of one of the supported families (families.ts), read and validated once.
 * LLaMA-1 keys (the 2023 fine-tunes) and the later additions (num_key_value_heads, rope_theta,
 * rope_scaling, head_dim, sliding_window) are understood; anything out of range or inconsistent
 * is a `bad-model` error naming the key, so the kernels can trust every dimension they are
 * specialised with. Another architecture is refused by name, with the list of those supported.
 */
import { EngineError } from '../errors';
import { ARCHITECTURES, familyOf, type Architecture, type Family } from './families';
import type { RopeScaling } from './rope';

export interface LlamaConfig {
  /** The architecture config.json names: which family's tensor names and switches apply. */
  architecture: Architecture;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling?: RopeScaling;
  maxPositions: number;
  vocabSize: number;
  tieWordEmbeddings: boolean;
  /** From config.json; the tokenizer's own ids take precedence where they exist. */
  bosTokenId?: number;
  eosTokenIds: number[];
  /** q, k and v projections add a bias (Qwen2). */
  qkvBias: boolean;
  /** RMSNorm over each head of q and k before RoPE, with gains of headDim (Qwen3). */
  qkNorm: boolean;
  /**
   * Per layer, how many keys a query attends: itself and the window - 1 before it (transformers'
   * sliding_window_overlay: key j is visible to query i when i - window < j <= i); 0 = all.
   */
  layerWindows: number[];
}

type Json = Record<string, unknown>;

function fail(message: string): never {
  throw new EngineError('bad-model', `config.json: ${message}`);
}

function integer(json: Json, key: string, min: number, max: number, fallback?: number): number {
  const value = json[key] ?? fallback;
  if (value === undefined || value === null) fail(`missing "${key}"`);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(`"${key}" must be an integer in [${min}, ${max}], got ${JSON.stringify(value)}`);
  }
  return value;
}

function positive(json: Json, key: string, max: number, fallback: number): number {
  const value = json[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > max) {
    fail(`"${key}" must be a number in (0, ${max}], got ${JSON.stringify(value)}`);
  }
  return value;
}

function parseRopeScaling(value: unknown): RopeScaling | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object') fail(`"rope_scaling" must be an object`);
  const json = value as Json;
  const type = json.rope_type ?? json.type;
  if (type === 'default') return undefined;
  if (type === 'linear') return { type, factor: positive(json, 'factor', 1024, 1) };
  if (type === 'llama3') {
    return {
      type,
      factor: positive(json, 'factor', 1024, 8),
      lowFreqFactor: positive(json, 'low_freq_factor', 1024, 1),
      highFreqFactor: positive(json, 'high_freq_factor', 1024, 4),
      originalMaxPositions: integer(json, 'original_max_position_embeddings', 1, 1 << 24, 8192),
    };
  }
  fail(`rope_scaling type ${JSON.stringify(type)} is not supported (supported: linear, llama3)`);
}

function tokenIds(value: unknown): number[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  if (!list.every((id) => Number.isInteger(id) && id >= 0)) fail(`"eos_token_id" must be token ids, got ${JSON.stringify(value)}`);
  return list as number[];
}

/** Per layer sliding windows from config.json, as the family reads them (see Family.window). */
function layerWindows(json: Json, family: Family, numLayers: number): number[] {
  const none = new Array<number>(numLayers).fill(0);
  if (family.window === 'none' || json.sliding_window === undefined || json.sliding_window === null) return none;
  if (family.window === 'qwen' && json.use_sliding_window !== true) return none;
  const window = integer(json, 'sliding_window', 1, 1 << 24);
  if (family.window === 'all') return none.fill(window);
  if (json.layer_types !== undefined && json.layer_types !== null) {
    const types = json.layer_types;
    if (!Array.isArray(types) || types.length !== numLayers || !types.every((t) => t === 'sliding_attention' || t === 'full_attention')) {
      fail(`"layer_types" must list "sliding_attention" or "full_attention" for each of the ${numLayers} layers`);
    }
    return types.map((t) => (t === 'sliding_attention' ? window : 0));
  }
  // Qwen2Config and Qwen3Config default max_window_layers to 28.
  const firstWindowed = integer(json, 'max_window_layers', 0, 1 << 16, 28);
  return none.map((_, l) => (l >= firstWindowed ? window : 0));
}

export function parseConfig(text: string): LlamaConfig {
  let json: Json;
  try {
    json = JSON.parse(text) as Json;
  } catch (error) {
    fail(`not valid JSON (${(error as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('not a JSON object');
  const architectures = Array.isArray(json.architectures) ? (json.architectures as unknown[]) : [];
  const family = familyOf(architectures, json.model_type);
  if (!family) {
    const named = architectures.length > 0 ? architectures.join(', ') : `model_type ${JSON.stringify(json.model_type ?? null)}`;
    throw new EngineError('bad-model', `config.json: ${named} is not supported: this engine runs ${ARCHITECTURES.join(', ')}`, {
      architecture: String(architectures[0] ?? json.model_type ?? 'unknown'),
      supported: ARCHITECTURES.join(', '),
    });
  }
  const { keys } = family;
  const activation = json[keys.activation];
  if (activation !== undefined && activation !== 'silu') fail(`${keys.activation} ${JSON.stringify(activation)} is not supported (these families use silu)`);
  if (json.mlp_bias === true) fail('mlp_bias is not supported (no supported family has MLP biases)');
  // Qwen2's q/k/v biases are part of its architecture; an attention_bias flag would add o_proj's too.
  if (json.attention_bias === true || json.bias === true) fail(`attention_bias is not supported for ${family.architecture}`);

  const hiddenSize = integer(json, 'hidden_size', 8, 1 << 16);
  const numHeads = integer(json, 'num_attention_heads', 1, 1024);
  const numKvHeads = integer(json, 'num_key_value_heads', 1, 1024, numHeads);
  if ((json.head_dim === undefined || json.head_dim === null) && hiddenSize % numHeads !== 0) fail(`hidden_size ${hiddenSize} is not divisible by num_attention_heads ${numHeads}`);
  const headDim = integer(json, 'head_dim', 4, 256, hiddenSize / numHeads);
  const numLayers = integer(json, keys.numLayers, 1, 512);
  const config: LlamaConfig = {
    architecture: family.architecture,
    hiddenSize,
    intermediateSize: integer(json, 'intermediate_size', 8, 1 << 18),
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: positive(json, keys.rmsNormEps, 0.1, 1e-6),
    ropeTheta: positive(json, 'rope_theta', 1e9, 10000),
    ropeScaling: parseRopeScaling(json.rope_scaling),
    maxPositions: integer(json, 'max_position_embeddings', 1, 1 << 20, 2048),
    vocabSize: integer(json, 'vocab_size', 2, 1 << 20),
    // transformers' PretrainedConfig defaults tie_word_embeddings to true; LlamaConfig and
    // MistralConfig pass false, Qwen2/Qwen3Config false, ExaoneConfig true.
    tieWordEmbeddings: typeof json.tie_word_embeddings === 'boolean' ? json.tie_word_embeddings : family.architecture === 'ExaoneForCausalLM',
    bosTokenId: typeof json.bos_token_id === 'number' ? json.bos_token_id : undefined,
    eosTokenIds: tokenIds(json.eos_token_id),
    qkvBias: family.qkvBias,
    qkNorm: family.qkNorm,
    layerWindows: layerWindows(json, family, numLayers),
  };
  if (config.hiddenSize % 8 !== 0) fail(`hidden_size ${config.hiddenSize} must be a multiple of 8`);
  if (config.intermediateSize % 8 !== 0) fail(`intermediate_size ${config.intermediateSize} must be a multiple of 8`);
  if (headDim % 4 !== 0) fail(`head dimension ${headDim} must be a multiple of 4`);
  if (numHeads % numKvHeads !== 0) fail(`num_attention_heads ${numHeads} is not a multiple of num_key_value_heads ${numKvHeads}`);
  if ((numHeads * headDim) % 8 !== 0) fail(`num_attention_heads * head_dim must be a multiple of 8`);
  return config;
}
