/**
 * Tiny random repos in the real hub layout, for tests, the CLI tests and e2e: config.json as the
 * family's transformers config writes it (LLaMA by default; Llama-3, Mistral, Qwen2, Qwen3,
 * EXAONE), weights as sharded safetensors + index or torch.save zips + index, the real LLaMA
 * tokenizer.model or a family's tokenizer files, tokenizer_config.json and
 * generation_config.json. Nothing here is used by the app; a model in this layout is
 * indistinguishable from a hub download to the loader.
 *
 * `weights(name)` returns exactly the values stored (after f16/bf16 rounding) as float64, for
 * the reference forward pass.
 */
import { seededRandom } from '../seeded-random';
import { bf16BitsToF32, f16BitsToF32, f32ToBf16Bits, f32ToF16Bits } from '../loader/dtype';
import { encodeSafetensors, type TensorToEncode } from '../loader/formats/safetensors';
import { encodeTorchZip } from '../loader/testing/torch-zip-writer';
import type { SourceDtype } from '../loader/types';
import type { ReferenceConfig, ReferenceWeights } from './reference';

/** The families tiny repos come in; 'llama' writes a LLaMA-1/2 style config unless told more. */
export type TinyFamily = 'llama' | 'mistral' | 'qwen2' | 'qwen3' | 'exaone';

export interface TinyModelSpec {
  family?: TinyFamily;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  vocabSize?: number;
  maxPositions?: number;
  dtype: SourceDtype;
  format: 'safetensors' | 'torch';
  /** 1 writes a single weights file, more write shards and an index. */
  shards: number;
  seed: number;
  tieWordEmbeddings?: boolean;
  ropeTheta?: number;
  rmsNormEps?: number;
  /** Bytes of a sentencepiece tokenizer.model to ship (the real LLaMA one in tests). */
  tokenizerModel?: Uint8Array;
  /** An explicit head_dim in config.json (Qwen3, Llama-3.2: need not be hidden / heads). */
  headDim?: number;
  /** Llama-3.1 style rope_scaling (rope_type llama3). */
  ropeScaling?: ReferenceConfig['ropeScaling'];
  /** Mistral: sliding_window on every layer; Qwen: use_sliding_window on layers from maxWindowLayers. */
  slidingWindow?: number;
  maxWindowLayers?: number;
  /** BOS and EOS ids config.json and generation_config.json name (LLaMA's 1 and 2 by default). */
  bosTokenId?: number;
  eosTokenId?: number | number[];
  /**
   * Embedding rows from `from` on (a vocabulary padded past its tokenizer, as Qwen's) scaled by
   * `scale`: with tied embeddings their logits then dominate, so a test can see they are never sampled.
   */
  paddedRows?: { from: number; scale: number };
  /** More files to ship as they are (tokenizer.json, tokenizer_config.json, chat templates...). */
  extraFiles?: Record<string, Uint8Array | string>;
}

export interface TinyModel {
  family: TinyFamily;
  files: Map<string, Uint8Array>;
  config: ReferenceConfig;
  weights: ReferenceWeights;
}

/**
 * The shapes a checkpoint of `c`'s family holds, in the order transformers saves them: LLaMA
 * names (model.layers.N...), or EXAONE's (transformer.h.N...), with Qwen2's q/k/v biases and
 * Qwen3's q/k norms where the config has them.
 */
export function llamaTensorShapes(c: ReferenceConfig): [string, number[]][] {
  const qDim = c.numHeads * c.headDim;
  const kvDim = c.numKvHeads * c.headDim;
  const exaone = c.names === 'exaone';
  const shapes: [string, number[]][] = [[exaone ? 'transformer.wte.weight' : 'model.embed_tokens.weight', [c.vocabSize, c.hiddenSize]]];
  for (let l = 0; l < c.numLayers; l++) {
    const p = exaone ? `transformer.h.${l}` : `model.layers.${l}`;
    const a = exaone ? `${p}.attn.attention` : `${p}.self_attn`;
    const [gate, up, down] = exaone ? ['c_fc_0', 'c_fc_1', 'c_proj'] : ['gate_proj', 'up_proj', 'down_proj'];
    shapes.push(
      [`${a}.q_proj.weight`, [qDim, c.hiddenSize]],
      [`${a}.k_proj.weight`, [kvDim, c.hiddenSize]],
      [`${a}.v_proj.weight`, [kvDim, c.hiddenSize]],
      ...(c.qkvBias ? ([[`${a}.q_proj.bias`, [qDim]], [`${a}.k_proj.bias`, [kvDim]], [`${a}.v_proj.bias`, [kvDim]]] as [string, number[]][]) : []),
      ...(c.qkNorm ? ([[`${a}.q_norm.weight`, [c.headDim]], [`${a}.k_norm.weight`, [c.headDim]]] as [string, number[]][]) : []),
      [`${a}.${exaone ? 'out_proj' : 'o_proj'}.weight`, [c.hiddenSize, qDim]],
      [`${p}.mlp.${gate}.weight`, [c.intermediateSize, c.hiddenSize]],
      [`${p}.mlp.${up}.weight`, [c.intermediateSize, c.hiddenSize]],
      [`${p}.mlp.${down}.weight`, [c.hiddenSize, c.intermediateSize]],
      [exaone ? `${p}.ln_1.weight` : `${p}.input_layernorm.weight`, [c.hiddenSize]],
      [exaone ? `${p}.ln_2.weight` : `${p}.post_attention_layernorm.weight`, [c.hiddenSize]],
    );
  }
  shapes.push([exaone ? 'transformer.ln_f.weight' : 'model.norm.weight', [c.hiddenSize]]);
  if (!c.tieWordEmbeddings) shapes.push(['lm_head.weight', [c.vocabSize, c.hiddenSize]]);
  return shapes;
}

/** Values scaled so activations stay O(1) through the layers and logits spread out. */
function initScale(name: string, shape: number[]): { mean: number; std: number } {
  if (/(layernorm|ln_\d|ln_f|q_norm|k_norm)\.weight$/.test(name) || name === 'model.norm.weight') return { mean: 1, std: 0.1 };
  if (name === 'model.embed_tokens.weight' || name === 'transformer.wte.weight') return { mean: 0, std: 1 };
  if (name === 'lm_head.weight') return { mean: 0, std: 3 / Math.sqrt(shape[1]) };
  // Qwen2's biases are large in trained models (k's especially); O(1) here keeps them visible.
  if (name.endsWith('.bias')) return { mean: 0, std: 0.5 };
  return { mean: 0, std: 1 / Math.sqrt(shape[1]) };
}

/** Per layer windows as the family's config applies them (see families.ts / config.ts). */
function tinyLayerWindows(spec: TinyModelSpec): number[] | undefined {
  if (spec.slidingWindow === undefined) return undefined;
  if (spec.family === 'mistral') return new Array<number>(spec.numLayers).fill(spec.slidingWindow);
  const first = spec.maxWindowLayers ?? 0;
  return Array.from({ length: spec.numLayers }, (_, l) => (l >= first ? spec.slidingWindow! : 0));
}

function encodeValues(values: Float32Array, dtype: SourceDtype): { data: Uint8Array; stored: Float64Array } {
  if (dtype === 'F32') return { data: new Uint8Array(values.buffer.slice(0)), stored: Float64Array.from(values) };
  const bits = Uint16Array.from(values, dtype === 'F16' ? f32ToF16Bits : f32ToBf16Bits);
  const decode = dtype === 'F16' ? f16BitsToF32 : bf16BitsToF32;
  return { data: new Uint8Array(bits.buffer), stored: Float64Array.from(bits, decode) };
}

export function buildTinyModel(spec: TinyModelSpec): TinyModel {
  const family = spec.family ?? 'llama';
  if (spec.slidingWindow !== undefined && family !== 'mistral' && family !== 'qwen2' && family !== 'qwen3') throw new Error(`${family} has no sliding window`);
  const config: ReferenceConfig = {
    hiddenSize: spec.hiddenSize,
    intermediateSize: spec.intermediateSize,
    numLayers: spec.numLayers,
    numHeads: spec.numHeads,
    numKvHeads: spec.numKvHeads,
    headDim: spec.headDim ?? spec.hiddenSize / spec.numHeads,
    rmsNormEps: spec.rmsNormEps ?? 1e-6,
    ropeTheta: spec.ropeTheta ?? 10000,
    vocabSize: spec.vocabSize ?? 32000,
    tieWordEmbeddings: spec.tieWordEmbeddings ?? false,
    ropeScaling: spec.ropeScaling,
    names: family === 'exaone' ? 'exaone' : 'llama',
    qkvBias: family === 'qwen2',
    qkNorm: family === 'qwen3',
    layerWindows: tinyLayerWindows(spec),
  };
  const rand = seededRandom(spec.seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const stored = new Map<string, Float64Array>();
  const tensors: TensorToEncode[] = llamaTensorShapes(config).map(([name, shape]) => {
    const { mean, std } = initScale(name, shape);
    const values = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => mean + std * normal());
    if (spec.paddedRows && name === llamaTensorShapes(config)[0][0]) values.subarray(spec.paddedRows.from * shape[1]).forEach((v, i, rows) => (rows[i] = v * spec.paddedRows!.scale));
    const { data, stored: exact } = encodeValues(values, spec.dtype);
    stored.set(name, exact);
    return { name, dtype: spec.dtype, shape, data };
  });

  const files = new Map<string, Uint8Array>();
  const text = (value: unknown) => new TextEncoder().encode(JSON.stringify(value, null, 2));
  const bos = spec.bosTokenId ?? 1;
  const eos = spec.eosTokenId ?? 2;
  files.set('config.json', familyConfigJson(family, spec, config, { maxPositions: spec.maxPositions ?? 512, dtype: spec.dtype, bos, eos }));
  files.set('generation_config.json', text({ bos_token_id: bos, eos_token_id: eos }));
  if (spec.tokenizerModel) {
    files.set('tokenizer.model', spec.tokenizerModel);
    files.set('tokenizer_config.json', text(TINY_TOKENIZER_CONFIG));
  }
  for (const [name, content] of Object.entries(spec.extraFiles ?? {})) files.set(name, typeof content === 'string' ? new TextEncoder().encode(content) : content);

  const safetensors = spec.format === 'safetensors';
  const fileName = (i: number) =>
    spec.shards === 1
      ? safetensors ? 'model.safetensors' : 'pytorch_model.bin'
      : safetensors
        ? `model-${String(i + 1).padStart(5, '0')}-of-${String(spec.shards).padStart(5, '0')}.safetensors`
        : `pytorch_model-${String(i + 1).padStart(5, '0')}-of-${String(spec.shards).padStart(5, '0')}.bin`;
  const weightMap: Record<string, string> = {};
  let totalSize = 0;
  for (let shard = 0; shard < spec.shards; shard++) {
    const part = tensors.filter((_, i) => Math.floor((i * spec.shards) / tensors.length) === shard);
    part.forEach((tensor) => (weightMap[tensor.name] = fileName(shard)));
    totalSize += part.reduce((sum, tensor) => sum + tensor.data.byteLength, 0);
    files.set(fileName(shard), safetensors ? encodeSafetensors(part, { format: 'pt' }) : encodeTorchZip(part));
  }
  if (spec.shards > 1) {
    files.set(safetensors ? 'model.safetensors.index.json' : 'pytorch_model.bin.index.json', text({ metadata: { total_size: totalSize }, weight_map: weightMap }));
  }

  const weights: ReferenceWeights = (name) => {
    if (name === 'lm_head.weight' && config.tieWordEmbeddings) name = llamaTensorShapes(config)[0][0];
    const values = stored.get(name);
    if (!values) throw new Error(`tiny model has no tensor ${name}`);
    return values;
  };
  return { family, files, config, weights };
}

/** config.json as the family's transformers config class writes it. */
function familyConfigJson(
  family: TinyFamily,
  spec: TinyModelSpec,
  config: ReferenceConfig,
  options: { maxPositions: number; dtype: SourceDtype; bos: number; eos: number | number[] },
): Uint8Array {
  const base = JSON.parse(new TextDecoder().decode(llamaConfigJson(config, options))) as Record<string, unknown>;
  const extra: Record<string, unknown> = {};
  if (spec.headDim !== undefined) extra.head_dim = spec.headDim;
  if (spec.ropeScaling) {
    const r = spec.ropeScaling;
    extra.rope_scaling = { rope_type: 'llama3', factor: r.factor, low_freq_factor: r.lowFreqFactor, high_freq_factor: r.highFreqFactor, original_max_position_embeddings: r.originalMaxPositions };
  }
  const json: Record<string, unknown> = { ...base, ...extra };
  if (family === 'llama') {
    if (spec.headDim !== undefined || spec.ropeScaling) Object.assign(json, { attention_bias: false, mlp_bias: false });
  } else if (family === 'mistral') {
    Object.assign(json, { architectures: ['MistralForCausalLM'], model_type: 'mistral', sliding_window: spec.slidingWindow ?? null });
  } else if (family === 'qwen2' || family === 'qwen3') {
    Object.assign(json, {
      architectures: [family === 'qwen2' ? 'Qwen2ForCausalLM' : 'Qwen3ForCausalLM'],
      model_type: family,
      use_sliding_window: spec.slidingWindow !== undefined,
      sliding_window: spec.slidingWindow ?? options.maxPositions,
      max_window_layers: spec.maxWindowLayers ?? config.numLayers,
      ...(family === 'qwen3' ? { attention_bias: false } : {}),
    });
  } else {
    // ExaoneConfig's own key names.
    const { num_hidden_layers, rms_norm_eps, hidden_act, ...rest } = json;
    Object.keys(json).forEach((key) => delete json[key]);
    Object.assign(json, rest, { architectures: ['ExaoneForCausalLM'], model_type: 'exaone', num_layers: num_hidden_layers, layer_norm_epsilon: rms_norm_eps, activation_function: hidden_act });
  }
  return new TextEncoder().encode(JSON.stringify(json, null, 2));
}

/** config.json for `config` as transformers writes a LlamaConfig (BOS 1, EOS 2 unless told, as LLaMA). */
export function llamaConfigJson(config: ReferenceConfig, options: { maxPositions: number; dtype: SourceDtype; bos?: number; eos?: number | number[] }): Uint8Array {
  const json = {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_size: config.hiddenSize,
    intermediate_size: config.intermediateSize,
    num_hidden_layers: config.numLayers,
    num_attention_heads: config.numHeads,
    num_key_value_heads: config.numKvHeads,
    rms_norm_eps: config.rmsNormEps,
    rope_theta: config.ropeTheta,
    max_position_embeddings: options.maxPositions,
    vocab_size: config.vocabSize,
    tie_word_embeddings: config.tieWordEmbeddings,
    hidden_act: 'silu',
    bos_token_id: options.bos ?? 1,
    eos_token_id: options.eos ?? 2,
    torch_dtype: { F32: 'float32', F16: 'float16', BF16: 'bfloat16' }[options.dtype],
  };
  return new TextEncoder().encode(JSON.stringify(json, null, 2));
}

/** tokenizer_config.json as LLaMA-1 era repos ship it (legacy sentencepiece behaviour). */
export const TINY_TOKENIZER_CONFIG = {
  add_bos_token: true,
  add_eos_token: false,
  bos_token: { __type: 'AddedToken', content: '<s>', lstrip: false, normalized: true, rstrip: false, single_word: false },
  eos_token: { __type: 'AddedToken', content: '</s>', lstrip: false, normalized: true, rstrip: false, single_word: false },
  unk_token: { __type: 'AddedToken', content: '<unk>', lstrip: false, normalized: true, rstrip: false, single_word: false },
  clean_up_tokenization_spaces: false,
  model_max_length: 2048,
  tokenizer_class: 'LlamaTokenizer',
};
