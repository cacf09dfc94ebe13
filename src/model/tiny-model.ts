/**
 * Tiny random LLaMA repos in the real hub layout, for tests, the CLI tests and e2e: config.json,
 * weights as sharded safetensors + index or torch.save zips + index, the real LLaMA
 * tokenizer.model, tokenizer_config.json and generation_config.json. Nothing here is used by
 * the app; a model in this layout is indistinguishable from a hub download to the loader.
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

export interface TinyModelSpec {
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
}

export interface TinyModel {
  files: Map<string, Uint8Array>;
  config: ReferenceConfig;
  weights: ReferenceWeights;
}

/** The shapes a LLaMA checkpoint holds, in the order transformers saves them. */
export function llamaTensorShapes(c: ReferenceConfig): [string, number[]][] {
  const qDim = c.numHeads * c.headDim;
  const kvDim = c.numKvHeads * c.headDim;
  const shapes: [string, number[]][] = [['model.embed_tokens.weight', [c.vocabSize, c.hiddenSize]]];
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}`;
    shapes.push(
      [`${p}.self_attn.q_proj.weight`, [qDim, c.hiddenSize]],
      [`${p}.self_attn.k_proj.weight`, [kvDim, c.hiddenSize]],
      [`${p}.self_attn.v_proj.weight`, [kvDim, c.hiddenSize]],
      [`${p}.self_attn.o_proj.weight`, [c.hiddenSize, qDim]],
      [`${p}.mlp.gate_proj.weight`, [c.intermediateSize, c.hiddenSize]],
      [`${p}.mlp.up_proj.weight`, [c.intermediateSize, c.hiddenSize]],
      [`${p}.mlp.down_proj.weight`, [c.hiddenSize, c.intermediateSize]],
      [`${p}.input_layernorm.weight`, [c.hiddenSize]],
      [`${p}.post_attention_layernorm.weight`, [c.hiddenSize]],
    );
  }
  shapes.push(['model.norm.weight', [c.hiddenSize]]);
  if (!c.tieWordEmbeddings) shapes.push(['lm_head.weight', [c.vocabSize, c.hiddenSize]]);
  return shapes;
}


/** Values scaled so activations stay O(1) through the layers and logits spread out. */
function initScale(name: string, shape: number[]): { mean: number; std: number } {
  if (name.endsWith('layernorm.weight') || name === 'model.norm.weight') return { mean: 1, std: 0.1 };
  if (name === 'model.embed_tokens.weight') return { mean: 0, std: 1 };
  if (name === 'lm_head.weight') return { mean: 0, std: 3 / Math.sqrt(shape[1]) };
  return { mean: 0, std: 1 / Math.sqrt(shape[1]) };
}

function encodeValues(values: Float32Array, dtype: SourceDtype): { data: Uint8Array; stored: Float64Array } {
  if (dtype === 'F32') return { data: new Uint8Array(values.buffer.slice(0)), stored: Float64Array.from(values) };
  const bits = Uint16Array.from(values, dtype === 'F16' ? f32ToF16Bits : f32ToBf16Bits);
  const decode = dtype === 'F16' ? f16BitsToF32 : bf16BitsToF32;
  return { data: new Uint8Array(bits.buffer), stored: Float64Array.from(bits, decode) };
}

export function buildTinyModel(spec: TinyModelSpec): TinyModel {
  const config: ReferenceConfig = {
    hiddenSize: spec.hiddenSize,
    intermediateSize: spec.intermediateSize,
    numLayers: spec.numLayers,
    numHeads: spec.numHeads,
    numKvHeads: spec.numKvHeads,
    headDim: spec.hiddenSize / spec.numHeads,
    rmsNormEps: spec.rmsNormEps ?? 1e-6,
    ropeTheta: spec.ropeTheta ?? 10000,
    vocabSize: spec.vocabSize ?? 32000,
    tieWordEmbeddings: spec.tieWordEmbeddings ?? false,
  };
  const rand = seededRandom(spec.seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const stored = new Map<string, Float64Array>();
  const tensors: TensorToEncode[] = llamaTensorShapes(config).map(([name, shape]) => {
    const { mean, std } = initScale(name, shape);
    const values = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => mean + std * normal());
    const { data, stored: exact } = encodeValues(values, spec.dtype);
    stored.set(name, exact);
    return { name, dtype: spec.dtype, shape, data };
  });

  const files = new Map<string, Uint8Array>();
  const text = (value: unknown) => new TextEncoder().encode(JSON.stringify(value, null, 2));
  files.set('config.json', llamaConfigJson(config, { maxPositions: spec.maxPositions ?? 512, dtype: spec.dtype }));
  files.set('generation_config.json', text({ bos_token_id: 1, eos_token_id: 2 }));
  if (spec.tokenizerModel) {
    files.set('tokenizer.model', spec.tokenizerModel);
    files.set('tokenizer_config.json', text(TINY_TOKENIZER_CONFIG));
  }

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
    if (name === 'lm_head.weight' && config.tieWordEmbeddings) name = 'model.embed_tokens.weight';
    const values = stored.get(name);
    if (!values) throw new Error(`tiny model has no tensor ${name}`);
    return values;
  };
  return { files, config, weights };
}

/** config.json for `config` as transformers writes a LlamaConfig (BOS 1, EOS 2, as LLaMA). */
export function llamaConfigJson(config: ReferenceConfig, options: { maxPositions: number; dtype: SourceDtype }): Uint8Array {
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
    bos_token_id: 1,
    eos_token_id: 2,
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
