/**
 * A LLaMA config.json, read and validated once. LLaMA-1 keys (the 2023 fine-tunes) and the
 * LLaMA-2/3 additions (num_key_value_heads, rope_theta, rope_scaling, head_dim) are understood;
 * anything out of range or inconsistent is a `bad-model` error naming the key, so the kernels
 * can trust every dimension they are specialised with.
 */
import { EngineError } from '../errors';
import type { RopeScaling } from './rope';

export interface LlamaConfig {
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

export function parseConfig(text: string): LlamaConfig {
  let json: Json;
  try {
    json = JSON.parse(text) as Json;
  } catch (error) {
    fail(`not valid JSON (${(error as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('not a JSON object');
  const architectures = Array.isArray(json.architectures) ? (json.architectures as unknown[]) : [];
  const isLlama = json.model_type === 'llama' || architectures.includes('LlamaForCausalLM');
  if (!isLlama) {
    fail(`model_type ${JSON.stringify(json.model_type)} (${architectures.join(', ') || 'no architectures'}) is not a LLaMA-architecture model`);
  }
  if (json.hidden_act !== undefined && json.hidden_act !== 'silu') fail(`hidden_act ${JSON.stringify(json.hidden_act)} is not supported (LLaMA uses silu)`);
  if (json.attention_bias === true || json.mlp_bias === true) fail('attention_bias / mlp_bias are not supported (LLaMA has no biases)');

  const hiddenSize = integer(json, 'hidden_size', 8, 1 << 16);
  const numHeads = integer(json, 'num_attention_heads', 1, 1024);
  const numKvHeads = integer(json, 'num_key_value_heads', 1, 1024, numHeads);
  if (json.head_dim === undefined && hiddenSize % numHeads !== 0) fail(`hidden_size ${hiddenSize} is not divisible by num_attention_heads ${numHeads}`);
  const headDim = integer(json, 'head_dim', 4, 256, hiddenSize / numHeads);
  const config: LlamaConfig = {
    hiddenSize,
    intermediateSize: integer(json, 'intermediate_size', 8, 1 << 18),
    numLayers: integer(json, 'num_hidden_layers', 1, 512),
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: positive(json, 'rms_norm_eps', 0.1, 1e-6),
    ropeTheta: positive(json, 'rope_theta', 1e9, 10000),
    ropeScaling: parseRopeScaling(json.rope_scaling),
    maxPositions: integer(json, 'max_position_embeddings', 1, 1 << 20, 2048),
    vocabSize: integer(json, 'vocab_size', 2, 1 << 20),
    tieWordEmbeddings: json.tie_word_embeddings === true,
    bosTokenId: typeof json.bos_token_id === 'number' ? json.bos_token_id : undefined,
    eosTokenIds: tokenIds(json.eos_token_id),
  };
  if (config.hiddenSize % 8 !== 0) fail(`hidden_size ${config.hiddenSize} must be a multiple of 8`);
  if (config.intermediateSize % 8 !== 0) fail(`intermediate_size ${config.intermediateSize} must be a multiple of 8`);
  if (headDim % 4 !== 0) fail(`head dimension ${headDim} must be a multiple of 4`);
  if (numHeads % numKvHeads !== 0) fail(`num_attention_heads ${numHeads} is not a multiple of num_key_value_heads ${numKvHeads}`);
  if ((numHeads * headDim) % 8 !== 0) fail(`num_attention_heads * head_dim must be a multiple of 8`);
  return config;
}
