/**
 * Writes a random-weight LLaMA GGUF (v3) of a given shape, so the benchmark can run llama.cpp
 * (through node-llama-cpp) on exactly the model shape and 4-bit budget we run: Q4_0 layers
 * (the same 32-weight groups with an f16 scale as our q4), f16 token embedding and output,
 * f32 norms. Streams to disk; never holds the ~4 GB file in memory.
 * Format: ggml's docs/gguf.md (header, typed metadata, tensor infos, 32-byte aligned data).
 */
import { randomFillSync } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { LlamaConfig } from '../model/config';

const GGML_F32 = 0;
const GGML_F16 = 1;
const GGML_Q4_0 = 2;
const ALIGNMENT = 32;

enum ValueType {
  U32 = 4,
  I32 = 5,
  F32 = 6,
  String = 8,
  Array = 9,
}

class Writer {
  private chunks: Uint8Array[] = [];
  size = 0;
  private push(bytes: Uint8Array) {
    this.chunks.push(bytes);
    this.size += bytes.length;
  }
  u32(v: number) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    this.push(b);
  }
  i32(v: number) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, v, true);
    this.push(b);
  }
  u64(v: number) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
    this.push(b);
  }
  f32(v: number) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
  }
  string(s: string) {
    const bytes = new TextEncoder().encode(s);
    this.u64(bytes.length);
    this.push(bytes);
  }
  pad(to: number) {
    this.push(new Uint8Array((to - (this.size % to)) % to));
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

interface TensorSpec {
  name: string;
  /** ggml order: ne[0] is the row length. */
  dims: number[];
  type: number;
}

function tensorBytes(t: TensorSpec): number {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (t.type === GGML_Q4_0) return (count / 32) * 18;
  return count * (t.type === GGML_F16 ? 2 : 4);
}

/** Writes the GGUF to `path` and returns its size in bytes. */
export async function writeRandomGguf(path: string, config: LlamaConfig): Promise<number> {
  const { hiddenSize: d, intermediateSize: inter, numLayers, numHeads, numKvHeads, headDim, vocabSize: v } = config;
  const header = new Writer();
  const kv: [string, (w: Writer) => void][] = [
    ['general.architecture', (w) => (w.u32(ValueType.String), w.string('llama'))],
    ['general.name', (w) => (w.u32(ValueType.String), w.string('random-llama-bench'))],
    ['general.file_type', (w) => (w.u32(ValueType.U32), w.u32(2))], // MOSTLY_Q4_0
    ['llama.context_length', (w) => (w.u32(ValueType.U32), w.u32(config.maxPositions))],
    ['llama.embedding_length', (w) => (w.u32(ValueType.U32), w.u32(d))],
    ['llama.block_count', (w) => (w.u32(ValueType.U32), w.u32(numLayers))],
    ['llama.feed_forward_length', (w) => (w.u32(ValueType.U32), w.u32(inter))],
    ['llama.rope.dimension_count', (w) => (w.u32(ValueType.U32), w.u32(headDim))],
    ['llama.attention.head_count', (w) => (w.u32(ValueType.U32), w.u32(numHeads))],
    ['llama.attention.head_count_kv', (w) => (w.u32(ValueType.U32), w.u32(numKvHeads))],
    ['llama.attention.layer_norm_rms_epsilon', (w) => (w.u32(ValueType.F32), w.f32(config.rmsNormEps))],
    ['tokenizer.ggml.model', (w) => (w.u32(ValueType.String), w.string('llama'))],
    // A LLaMA-shaped vocabulary: unk, bos, eos, 256 byte tokens, then plain pieces.
    ['tokenizer.ggml.tokens', (w) => {
      w.u32(ValueType.Array);
      w.u32(ValueType.String);
      w.u64(v);
      for (let i = 0; i < v; i++) w.string(i === 0 ? '<unk>' : i === 1 ? '<s>' : i === 2 ? '</s>' : i < 259 ? `<0x${(i - 3).toString(16).toUpperCase().padStart(2, '0')}>` : `\u2581t${i}`);
    }],
    ['tokenizer.ggml.scores', (w) => {
      w.u32(ValueType.Array);
      w.u32(ValueType.F32);
      w.u64(v);
      for (let i = 0; i < v; i++) w.f32(i < 259 ? 0 : -i);
    }],
    ['tokenizer.ggml.token_type', (w) => {
      w.u32(ValueType.Array);
      w.u32(ValueType.I32);
      w.u64(v);
      for (let i = 0; i < v; i++) w.i32(i === 0 ? 2 : i < 3 ? 3 : i < 259 ? 6 : 1);
    }],
    ['tokenizer.ggml.bos_token_id', (w) => (w.u32(ValueType.U32), w.u32(1))],
    ['tokenizer.ggml.eos_token_id', (w) => (w.u32(ValueType.U32), w.u32(2))],
    ['tokenizer.ggml.unknown_token_id', (w) => (w.u32(ValueType.U32), w.u32(0))],
  ];
  const tensors: TensorSpec[] = [{ name: 'token_embd.weight', dims: [d, v], type: GGML_F16 }];
  for (let l = 0; l < numLayers; l++) {
    tensors.push(
      { name: `blk.${l}.attn_norm.weight`, dims: [d], type: GGML_F32 },
      { name: `blk.${l}.attn_q.weight`, dims: [d, numHeads * headDim], type: GGML_Q4_0 },
      { name: `blk.${l}.attn_k.weight`, dims: [d, numKvHeads * headDim], type: GGML_Q4_0 },
      { name: `blk.${l}.attn_v.weight`, dims: [d, numKvHeads * headDim], type: GGML_Q4_0 },
      { name: `blk.${l}.attn_output.weight`, dims: [numHeads * headDim, d], type: GGML_Q4_0 },
      { name: `blk.${l}.ffn_norm.weight`, dims: [d], type: GGML_F32 },
      { name: `blk.${l}.ffn_gate.weight`, dims: [d, inter], type: GGML_Q4_0 },
      { name: `blk.${l}.ffn_up.weight`, dims: [d, inter], type: GGML_Q4_0 },
      { name: `blk.${l}.ffn_down.weight`, dims: [inter, d], type: GGML_Q4_0 },
    );
  }
  tensors.push({ name: 'output_norm.weight', dims: [d], type: GGML_F32 }, { name: 'output.weight', dims: [d, v], type: GGML_F16 });

  header.u32(0x46554747); // "GGUF"
  header.u32(3);
  header.u64(tensors.length);
  header.u64(kv.length);
  for (const [key, write] of kv) {
    header.string(key);
    write(header);
  }
  let offset = 0;
  for (const t of tensors) {
    header.string(t.name);
    header.u32(t.dims.length);
    t.dims.forEach((n) => header.u64(n));
    header.u32(t.type);
    header.u64(offset);
    offset += Math.ceil(tensorBytes(t) / ALIGNMENT) * ALIGNMENT;
  }
  header.pad(ALIGNMENT);

  const file = await open(path, 'w');
  try {
    await file.write(header.bytes());
    const chunk = new Uint8Array(576 * 100_000); // a whole number of Q4_0 blocks (18 B) and f16/f32 elements
    for (const t of tensors) {
      let remaining = Math.ceil(tensorBytes(t) / ALIGNMENT) * ALIGNMENT;
      while (remaining > 0) {
        const n = Math.min(remaining, chunk.length);
        fillTensorBytes(chunk.subarray(0, n), t.type);
        await file.write(chunk, 0, n);
        remaining -= n;
      }
    }
  } finally {
    await file.close();
  }
  return header.size + offset;
}

/** Random data a model can run on without NaNs: small f16 scales, random 4-bit codes. */
function fillTensorBytes(bytes: Uint8Array, type: number): void {
  randomFillSync(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (type === GGML_Q4_0) {
    for (let at = 0; at + 18 <= bytes.length; at += 18) view.setUint16(at, 0x1400, true); // d = 2^-10
  } else if (type === GGML_F16) {
    for (let at = 0; at + 2 <= bytes.length; at += 2) view.setUint16(at, (view.getUint16(at, true) & 0x83ff) | 0x2000, true); // |x| < 2^-7
  } else {
    for (let at = 0; at + 4 <= bytes.length; at += 4) view.setFloat32(at, 1, true);
  }
}
