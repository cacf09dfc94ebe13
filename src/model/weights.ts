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
import { FAMILIES } from './families';

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

/** Where a hub tensor's values go: rows of an engine matrix, or elements of an engine vector from `offset`. */
export type Placement = { kind: 'matrix'; key: string; rowOffset: number; rows: number; cols: number } | { kind: 'vector'; key: string; offset: number; length: number };

export interface WeightLayout {
  matrices: MatrixSpec[];
  vectors: { key: string; length: number }[];
  /** Hub tensor name -> where its rows go (the tied embedding goes to two places). */
  placements: Map<string, Placement[]>;
}

/** Buffers a checkpoint may hold that the forward pass recomputes (LLaMA-1 saved inv_freq). */
const IGNORED = /\.rotary_emb\.(inv_freq|cos_cached|sin_cached)$/;

export function layerKey(layer: number, name: 'qkv' | 'qkv_bias' | 'q_norm' | 'k_norm' | 'o' | 'gate_up' | 'down' | 'attn_norm' | 'ffn_norm'): string {
  return `layers.${layer}.${name}`;
}

/**
 * An embedding table from this size in f16 on is stored in q4 when the model is q4, and so is
 * the lm_head. Large vocabularies made them large: Llama-3-8B's table and lm_head are 1 GiB each
 * in f16 (its 32 layers are 3.7 GiB at q4) and the lm_head is a quarter of the bytes a decode
 * step reads; Llama-3.2-1B's tied table (0.5 GiB) outweighs all its layers. q4 stores each in
 * 28% of that, as llama.cpp's Q4 files and WebLLM's q4f16 builds do. LLaMA-1/2's table (32,000
 * rows, 250 MiB at 7B, 6% of a decode step) stays f16 up to 7B, where 4 bits measurably cost more than
 * they save (docs/quantization.md), and so does every tiny test model's.
 */
export const Q4_TABLE_BYTES = 256 * 2 ** 20;

/** Every family names its own lm_head so (families.ts). */
const LM_HEAD = 'lm_head.weight';

/** Whether a checkpoint carries its own lm_head (else weightLayout ties it to the embedding). */
export function hasOwnLmHead(tensors: TensorRecord[]): boolean {
  return tensors.some((t) => t.name === LM_HEAD);
}

/**
 * The engine matrices and vectors of `config` at `dtype`, and where each hub tensor goes.
 * `lmHeadFormat` and `embedFormat` override the defaults (measurements and tests).
 */
export function weightLayout(config: LlamaConfig, dtype: ModelDtype, hasLmHead: boolean, lmHeadFormat?: WeightFormat, embedFormat?: WeightFormat): WeightLayout {
  const { hiddenSize: d, intermediateSize: inter, numHeads, numKvHeads, headDim, vocabSize: v } = config;
  const names = FAMILIES[config.architecture].names;
  const qDim = numHeads * headDim;
  const kvDim = numKvHeads * headDim;
  // q4 keeps a small embedding table (and a tied lm_head) in f16: it is read one row per token,
  // so its size costs memory, not speed, and 4 bits there shifts every input. A large one is q4
  // (Q4_TABLE_BYTES).
  const largeTable = dtype === 'q4' && v * d * 2 >= Q4_TABLE_BYTES;
  const defaultTable: WeightFormat = dtype === 'f32' ? 'f32' : largeTable ? matrixFormat('q4', d) : 'f16';
  const tableFormat: WeightFormat = embedFormat === undefined ? defaultTable : matrixFormat(embedFormat, d);
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
  /** An f32 vector filled by the hub tensors `parts` (name, length), one after the other. */
  const vector = (key: string, parts: [string, number][]) => {
    const length = parts.reduce((sum, [, n]) => sum + n, 0);
    vectors.push({ key, length });
    let offset = 0;
    for (const [name, n] of parts) {
      place(name, { kind: 'vector', key, offset, length: n });
      offset += n;
    }
  };

  matrix('embed', tableFormat, v, d, [[names.embed, v]]);
  for (let l = 0; l < config.numLayers; l++) {
    const n = names.layer(l);
    vector(layerKey(l, 'attn_norm'), [[n.attnNorm, d]]);
    matrix(layerKey(l, 'qkv'), matrixFormat(dtype, d), qDim + 2 * kvDim, d, [
      [n.q, qDim],
      [n.k, kvDim],
      [n.v, kvDim],
    ]);
    if (config.qkvBias) {
      vector(layerKey(l, 'qkv_bias'), [
        [n.qBias, qDim],
        [n.kBias, kvDim],
        [n.vBias, kvDim],
      ]);
    }
    if (config.qkNorm) {
      vector(layerKey(l, 'q_norm'), [[n.qNorm, headDim]]);
      vector(layerKey(l, 'k_norm'), [[n.kNorm, headDim]]);
    }
    matrix(layerKey(l, 'o'), matrixFormat(dtype, qDim), d, qDim, [[n.o, d]]);
    vector(layerKey(l, 'ffn_norm'), [[n.ffnNorm, d]]);
    matrix(layerKey(l, 'gate_up'), matrixFormat(dtype, d), 2 * inter, d, [
      [n.gate, inter],
      [n.up, inter],
    ]);
    matrix(layerKey(l, 'down'), matrixFormat(dtype, inter), d, inter, [[n.down, d]]);
  }
  vector('norm', [[names.finalNorm, d]]);
  if (hasLmHead) {
    matrix('lm_head', headFormat, v, d, [[names.lmHead, v]]);
  } else if (!config.tieWordEmbeddings) {
    throw new EngineError('bad-model', `${names.lmHead} is missing and tie_word_embeddings is false`);
  } else if (headFormat !== tableFormat) {
    matrix('lm_head', headFormat, v, d, []);
    place(names.embed, { kind: 'matrix', key: 'lm_head', rowOffset: 0, rows: v, cols: d });
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
 * present once with the right shape, nothing unexpected (a bias the family has not would mean
 * the config describes another model).
 */
export function matchTensors(layout: WeightLayout, tensors: TensorRecord[]): { record: TensorRecord; placements: Placement[] }[] {
  const matched: { record: TensorRecord; placements: Placement[] }[] = [];
  const seen = new Set<string>();
  for (const record of tensors) {
    if (IGNORED.test(record.name)) continue;
    const placements = layout.placements.get(record.name);
    if (!placements) throw new EngineError('bad-model', `Unexpected tensor ${record.name}: this is not the checkpoint config.json describes`);
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
