/**
 * The weight map: which engine tensor each hub tensor lands in, and in what format.
 * This file and the loader are the only places that know hub tensor names.
 *
 * Engine matrices fuse what a layer multiplies by the same input: q, k and v projections stack
 * into one (qDim + 2 kvDim, D) matrix, gate and up into one (2 I, D) matrix, so a layer runs
 * 4 matmuls instead of 7. Norm gains stay f32 (they are tiny and feed every element).
 *
 * Legend: D = hidden size, I = intermediate size, V = vocab, qDim = heads * headDim,
 * kvDim = kv heads * headDim.
 */
import { EngineError } from '../errors';
import type { KvFormat, WeightFormat } from '../gpu/shaders';
import type { TensorRecord } from '../loader/types';
import type { LlamaConfig } from './config';

/** The engine's storage choice, as the CLI's --dtype names it. */
export type ModelDtype = 'f32' | 'f16' | 'q4';

/**
 * The KV cache follows the weights' precision class: f32 for the f32 engine (held to float64 at
 * 1e-4), f16 for f16 and q4, which halves the cache (1 GiB instead of 2 for a 7B model at 2048
 * tokens) and the bytes attention reads; see the f16-cache figures in llama.test.ts.
 */
export function kvFormatFor(dtype: ModelDtype): KvFormat {
  return dtype === 'f32' ? 'f32' : 'f16';
}

/**
 * q4 needs whole groups of 32 along a row (the input dimension). A matrix whose input width is
 * not a multiple of 32 (a LLaMA with intermediate_size 176: its down_proj) is kept in f16
 * instead, tensor by tensor, as llama.cpp's quantizer falls back for rows its block size does
 * not divide; the rest of the model stays q4.
 */
export function matrixFormat(dtype: WeightFormat, cols: number): WeightFormat {
  return dtype === 'q4' && cols % 32 !== 0 ? 'f16' : dtype;
}

export interface MatrixSpec {
  key: string;
  format: WeightFormat;
  rows: number;
  cols: number;
}

export type Placement = { kind: 'matrix'; key: string; rowOffset: number; rows: number; cols: number } | { kind: 'vector'; key: string; length: number };

export interface WeightLayout {
  matrices: MatrixSpec[];
  vectors: { key: string; length: number }[];
  /** Hub tensor name -> where its rows go (the tied embedding goes to two places). */
  placements: Map<string, Placement[]>;
}

/** Buffers a checkpoint may hold that the forward pass recomputes (LLaMA-1 saved inv_freq). */
const IGNORED = /\.rotary_emb\.inv_freq$/;

export function layerKey(layer: number, name: 'qkv' | 'o' | 'gate_up' | 'down' | 'attn_norm' | 'ffn_norm'): string {
  return `layers.${layer}.${name}`;
}

/** The hub's own lm_head tensor, when the checkpoint has one (else it is tied to the embedding). */
const LM_HEAD = 'lm_head.weight';

/** Whether a checkpoint carries its own lm_head (else weightLayout ties it to the embedding). */
export function hasOwnLmHead(tensors: TensorRecord[]): boolean {
  return tensors.some((t) => t.name === LM_HEAD);
}

export function weightLayout(config: LlamaConfig, dtype: ModelDtype, hasLmHead: boolean, lmHeadFormat?: WeightFormat): WeightLayout {
  const { hiddenSize: d, intermediateSize: inter, numHeads, numKvHeads, headDim, vocabSize: v } = config;
  const qDim = numHeads * headDim;
  const kvDim = numKvHeads * headDim;
  // q4 keeps the embedding table (and a tied lm_head) in f16: it is read one row per token, so
  // its size costs memory, not speed, and 4 bits there shifts every input.
  const tableFormat: WeightFormat = dtype === 'f32' ? 'f32' : 'f16';
  const headFormat: WeightFormat = lmHeadFormat === undefined ? tableFormat : matrixFormat(lmHeadFormat, d);

  const matrices: MatrixSpec[] = [];
  const vectors: { key: string; length: number }[] = [];
  const placements = new Map<string, Placement[]>();
  const place = (name: string, placement: Placement) => placements.set(name, [...(placements.get(name) ?? []), placement]);
  const matrix = (key: string, format: WeightFormat, rows: number, cols: number, parts: [string, number][]) => {
    matrices.push({ key, format, rows, cols });
    let rowOffset = 0;
    for (const [name, partRows] of parts) {
      place(name, { kind: 'matrix', key, rowOffset, rows: partRows, cols });
      rowOffset += partRows;
    }
  };
  const vector = (key: string, name: string, length: number) => {
    vectors.push({ key, length });
    place(name, { kind: 'vector', key, length });
  };

  matrix('embed', tableFormat, v, d, [['model.embed_tokens.weight', v]]);
  for (let l = 0; l < config.numLayers; l++) {
    const p = `model.layers.${l}`;
    vector(layerKey(l, 'attn_norm'), `${p}.input_layernorm.weight`, d);
    matrix(layerKey(l, 'qkv'), matrixFormat(dtype, d), qDim + 2 * kvDim, d, [
      [`${p}.self_attn.q_proj.weight`, qDim],
      [`${p}.self_attn.k_proj.weight`, kvDim],
      [`${p}.self_attn.v_proj.weight`, kvDim],
    ]);
    matrix(layerKey(l, 'o'), matrixFormat(dtype, qDim), d, qDim, [[`${p}.self_attn.o_proj.weight`, d]]);
    vector(layerKey(l, 'ffn_norm'), `${p}.post_attention_layernorm.weight`, d);
    matrix(layerKey(l, 'gate_up'), matrixFormat(dtype, d), 2 * inter, d, [
      [`${p}.mlp.gate_proj.weight`, inter],
      [`${p}.mlp.up_proj.weight`, inter],
    ]);
    matrix(layerKey(l, 'down'), matrixFormat(dtype, inter), d, inter, [[`${p}.mlp.down_proj.weight`, d]]);
  }
  vector('norm', 'model.norm.weight', d);
  if (hasLmHead) {
    matrix('lm_head', headFormat, v, d, [[LM_HEAD, v]]);
  } else if (!config.tieWordEmbeddings) {
    throw new EngineError('bad-model', 'lm_head.weight is missing and tie_word_embeddings is false');
  } else if (headFormat !== tableFormat) {
    matrix('lm_head', headFormat, v, d, []);
    place('model.embed_tokens.weight', { kind: 'matrix', key: 'lm_head', rowOffset: 0, rows: v, cols: d });
  }
  return { matrices, vectors, placements };
}

/**
 * How many checkpoint matrices (hub tensors; norms are f32 vectors everywhere) each format
 * holds, e.g. { q4: 12, f16: 4 }: what "N tensors are not q4" in the model's info counts. A tied
 * embedding counts once, in the table's format.
 */
export function tensorFormats(layout: WeightLayout): Partial<Record<WeightFormat, number>> {
  const formats = new Map(layout.matrices.map((m) => [m.key, m.format]));
  const counts: Partial<Record<WeightFormat, number>> = {};
  for (const placements of layout.placements.values()) {
    if (placements[0].kind !== 'matrix') continue;
    const format = formats.get(placements[0].key)!;
    counts[format] = (counts[format] ?? 0) + 1;
  }
  return counts;
}

/** Key of the matrix the final projection reads: its own, or the tied embedding. */
export function lmHeadKey(layout: WeightLayout): string {
  return layout.matrices.some((m) => m.key === 'lm_head') ? 'lm_head' : 'embed';
}

/**
 * Checks every tensor against the layout before anything is allocated: each expected tensor
 * present once with the right shape, nothing unexpected (a bias would mean this is not LLaMA).
 */
export function matchTensors(layout: WeightLayout, tensors: TensorRecord[]): { record: TensorRecord; placements: Placement[] }[] {
  const matched: { record: TensorRecord; placements: Placement[] }[] = [];
  const seen = new Set<string>();
  for (const record of tensors) {
    if (IGNORED.test(record.name)) continue;
    const placements = layout.placements.get(record.name);
    if (!placements) throw new EngineError('bad-model', `Unexpected tensor ${record.name}: this is not a LLaMA checkpoint the config describes`);
    if (seen.has(record.name)) throw new EngineError('bad-model', `Tensor ${record.name} appears twice`);
    seen.add(record.name);
    const expected = placements[0].kind === 'matrix' ? [placements[0].rows, placements[0].cols] : [placements[0].length];
    if (record.shape.length !== expected.length || record.shape.some((size, i) => size !== expected[i])) {
      throw new EngineError('bad-model', `Tensor ${record.name} has shape [${record.shape}], config.json implies [${expected}]`, { tensor: record.name });
    }
    matched.push({ record, placements });
  }
  const missing = [...layout.placements.keys()].filter((name) => !seen.has(name));
  if (missing.length > 0) {
    throw new EngineError('bad-model', `Missing ${missing.length} tensor(s): ${missing.slice(0, 4).join(', ')}${missing.length > 4 ? ', ...' : ''}`);
  }
  return matched;
}
