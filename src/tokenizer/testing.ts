/**
 * Test helpers (tests only): the real LLaMA tokenizer.model from shared/fixtures, a protobuf
 * writer for small handmade sentencepiece models, and a seeded random generator.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { PieceType, SentencePieceModel } from './sentencepiece-model';

/** `shared/` sits beside the repository root, locally and in CI. */
const llamaModelUrl = new URL('../../../shared/fixtures/llama-tokenizer.model', import.meta.url);

/** The real LLaMA tokenizer.model. A missing fixture is a failure, never a skip. */
export function llamaModelBytes(): Uint8Array {
  const path = fileURLToPath(llamaModelUrl);
  if (!existsSync(path)) throw new Error(`The LLaMA tokenizer fixture is missing: expected it at ${path}.`);
  return new Uint8Array(readFileSync(path));
}

export { seededRandom } from '../seeded-random';

/** Protobuf wire-format writer, just enough for ModelProto. */
class ProtoWriter {
  readonly bytes: number[] = [];

  varint(value: number): this {
    // Negative int32s go out sign-extended to 64 bits (10 bytes), as protobuf does.
    let low = value >>> 0;
    let high = value < 0 ? 0xffffffff : Math.floor(value / 2 ** 32);
    while (high !== 0 || low > 0x7f) {
      this.bytes.push((low & 0x7f) | 0x80);
      low = ((low >>> 7) | ((high & 0x7f) << 25)) >>> 0;
      high >>>= 7;
    }
    this.bytes.push(low);
    return this;
  }

  tag(field: number, wireType: number): this {
    return this.varint(field * 8 + wireType);
  }

  int(field: number, value: number): this {
    return this.tag(field, 0).varint(value);
  }

  float(field: number, value: number): this {
    const buffer = new DataView(new ArrayBuffer(4));
    buffer.setFloat32(0, value, true);
    this.tag(field, 5);
    for (let index = 0; index < 4; index++) this.bytes.push(buffer.getUint8(index));
    return this;
  }

  bytesField(field: number, value: Uint8Array | number[]): this {
    this.tag(field, 2).varint(value.length);
    for (const byte of value) this.bytes.push(byte);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytesField(field, new TextEncoder().encode(value));
  }

  message(field: number, write: (writer: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    write(inner);
    return this.bytesField(field, inner.bytes);
  }
}

const typeNumbers: Record<PieceType, number> = { normal: 1, unknown: 2, control: 3, 'user-defined': 4, unused: 5, byte: 6 };

/** Serializes a model as tokenizer.model bytes; `modelType` defaults to BPE (2). */
export function encodeModelProto(model: SentencePieceModel, options: { modelType?: number; normalizerName?: string } = {}): Uint8Array {
  const writer = new ProtoWriter();
  for (const { piece, score, type } of model.pieces) {
    writer.message(1, (message) => message.string(1, piece).float(2, score).int(3, typeNumbers[type]));
  }
  writer.message(2, (trainer) => {
    trainer.int(3, options.modelType ?? 2).int(4, model.pieces.length).int(35, model.byteFallback ? 1 : 0);
    trainer.int(40, model.unkId).int(41, model.bosId).int(42, model.eosId).int(43, model.padId);
  });
  writer.message(3, (normalizer) => {
    normalizer.string(1, options.normalizerName ?? model.normalizer.name);
    normalizer.int(3, model.normalizer.addDummyPrefix ? 1 : 0);
    normalizer.int(4, model.normalizer.removeExtraWhitespaces ? 1 : 0);
    normalizer.int(5, model.normalizer.escapeWhitespaces ? 1 : 0);
  });
  return new Uint8Array(writer.bytes);
}

/** A small BPE model: <unk> <s> </s>, then `pieces` as NORMAL unless typed, scored in order. */
export function smallModel(
  pieces: (string | [string, PieceType])[],
  settings: Partial<Pick<SentencePieceModel, 'byteFallback'>> & Partial<SentencePieceModel['normalizer']> = {},
): SentencePieceModel {
  const byteFallback = settings.byteFallback ?? false;
  const bytes = byteFallback ? Array.from({ length: 256 }, (_, byte) => `<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`) : [];
  return {
    pieces: [
      { piece: '<unk>', score: 0, type: 'unknown' },
      { piece: '<s>', score: 0, type: 'control' },
      { piece: '</s>', score: 0, type: 'control' },
      ...bytes.map((piece) => ({ piece, score: 0, type: 'byte' as const })),
      ...pieces.map((entry, rank) => {
        const [piece, type] = typeof entry === 'string' ? [entry, 'normal' as const] : entry;
        return { piece, score: -rank, type };
      }),
    ],
    byteFallback,
    unkId: 0,
    bosId: 1,
    eosId: 2,
    padId: -1,
    unkSurface: ' \u2047 ',
    normalizer: {
      name: 'identity',
      addDummyPrefix: settings.addDummyPrefix ?? true,
      removeExtraWhitespaces: settings.removeExtraWhitespaces ?? false,
      escapeWhitespaces: settings.escapeWhitespaces ?? true,
    },
  };
}
