/**
 * sentencepiece's `tokenizer.model`: a protobuf `ModelProto` (sentencepiece_model.proto), read by
 * a minimal hand-written wire-format reader. Only the fields a LLaMA BPE tokenizer needs are
 * kept; every other field is skipped by its wire type. `validateModel` holds the load-time checks
 * (those of sentencepiece's model_interface.cc, plus what this engine does not implement), and is
 * shared with the tokenizer.json path so both end in the same validated form.
 */
import { EngineError } from '../errors';

/** ModelProto.SentencePiece.Type, in its enum order (NORMAL = 1 ... BYTE = 6). */
export type PieceType = 'normal' | 'unknown' | 'control' | 'user-defined' | 'unused' | 'byte';
const pieceTypeByNumber: readonly PieceType[] = ['normal', 'unknown', 'control', 'user-defined', 'unused', 'byte'];

export interface SentencePiece {
  piece: string;
  /** Larger merges first. Not used for ids. */
  score: number;
  type: PieceType;
}

export interface NormalizerSettings {
  /** sentencepiece's rule name; only "identity" (LLaMA's) is implemented. */
  name: string;
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
  escapeWhitespaces: boolean;
}

export interface SentencePieceModel {
  /** Indexed by token id. */
  pieces: SentencePiece[];
  /** Unknown characters become their UTF-8 bytes as `<0xXX>` pieces instead of `unkId`. */
  byteFallback: boolean;
  unkId: number;
  /** -1 where the model has none. */
  bosId: number;
  eosId: number;
  padId: number;
  /** What decode prints for `unkId` (sentencepiece's default is " \u2047 "). */
  unkSurface: string;
  normalizer: NormalizerSettings;
}

const BPE_MODEL_TYPE = 2; // TrainerSpec.ModelType.BPE; UNIGRAM = 1 is the proto default

function badModel(message: string): EngineError {
  return new EngineError('bad-model', `tokenizer.model: ${message}`);
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

/** Reads one protobuf message in bytes [position, end). Every read checks bounds, so any input ends. */
class ProtoReader {
  private position: number;
  private readonly view: DataView;
  // ignoreBOM: piece 30143 of LLaMA is U+FEFF itself, which a default TextDecoder would drop.
  private static readonly utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

  constructor(
    private readonly bytes: Uint8Array,
    start: number,
    private readonly end: number,
    private readonly what: string,
  ) {
    this.position = start;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get done(): boolean {
    return this.position >= this.end;
  }

  /** A varint's low 32 bits (unsigned) and its whole value (exact below 2^53, where lengths live). */
  private varint(): { low: number; whole: number } {
    let whole = 0;
    let low = 0;
    for (let index = 0; ; index++) {
      if (this.position >= this.end) throw badModel(`${this.what} ends inside a varint.`);
      if (index === 10) throw badModel(`${this.what} has a varint longer than 10 bytes.`);
      const byte = this.bytes[this.position++];
      const part = (byte & 0x7f) * 2 ** (7 * index);
      whole += part;
      if (index < 5) low += part; // bytes past the fifth only carry bits 35 and up
      if ((byte & 0x80) === 0) return { low: low % 2 ** 32, whole };
    }
  }

  /** int32 and enum fields: negative values are sign-extended to 64 bits on the wire. */
  int32(): number {
    return this.varint().low | 0;
  }

  bool(): boolean {
    return this.varint().whole !== 0;
  }

  float(): number {
    if (this.end - this.position < 4) throw badModel(`${this.what} ends inside a float.`);
    const value = this.view.getFloat32(this.position, true);
    this.position += 4;
    return value;
  }

  /** Returns the [start, end) of a length-delimited field and steps past it. */
  span(): [number, number] {
    const length = this.varint().whole;
    if (length > this.end - this.position) {
      throw badModel(`${this.what} has a field of ${length} bytes where only ${this.end - this.position} remain.`);
    }
    const start = this.position;
    this.position += length;
    return [start, this.position];
  }

  string(): string {
    const [start, end] = this.span();
    try {
      return ProtoReader.utf8.decode(this.bytes.subarray(start, end));
    } catch (error) {
      throw new EngineError('bad-model', `tokenizer.model: ${this.what} has a string that is not UTF-8.`, undefined, { cause: error });
    }
  }

  message(what: string): ProtoReader {
    const [start, end] = this.span();
    return new ProtoReader(this.bytes, start, end, what);
  }

  tag(): { field: number; wireType: number } {
    const tag = this.varint().whole;
    const field = Math.floor(tag / 8);
    if (field === 0) throw badModel(`${this.what} has a field numbered 0; the file is not a sentencepiece model.`);
    return { field, wireType: tag % 8 };
  }

  /** Fails where a known field arrives with another wire type than its declared one. */
  expect(wireType: number, actual: number, field: string): void {
    if (wireType !== actual) throw badModel(`${this.what}.${field} has wire type ${actual}, expected ${wireType}.`);
  }

  skip(wireType: number): void {
    if (wireType === WIRE_VARINT) this.varint();
    else if (wireType === WIRE_LENGTH_DELIMITED) this.span();
    else if (wireType === WIRE_FIXED64 || wireType === WIRE_FIXED32) {
      const size = wireType === WIRE_FIXED64 ? 8 : 4;
      if (this.end - this.position < size) throw badModel(`${this.what} ends inside a fixed-size field.`);
      this.position += size;
    } else {
      // 3 and 4 are proto2 groups, which no sentencepiece message uses; 6 and 7 do not exist.
      throw badModel(`${this.what} has wire type ${wireType}; the file is not a sentencepiece model.`);
    }
  }
}

function readPiece(reader: ProtoReader, id: number): SentencePiece {
  let piece: string | undefined;
  let score = 0;
  let typeNumber = 1; // NORMAL is the proto default
  while (!reader.done) {
    const { field, wireType } = reader.tag();
    if (field === 1) {
      reader.expect(WIRE_LENGTH_DELIMITED, wireType, 'piece');
      piece = reader.string();
    } else if (field === 2) {
      reader.expect(WIRE_FIXED32, wireType, 'score');
      score = reader.float();
    } else if (field === 3) {
      reader.expect(WIRE_VARINT, wireType, 'type');
      typeNumber = reader.int32();
    } else reader.skip(wireType);
  }
  const type = pieceTypeByNumber[typeNumber - 1];
  if (piece === undefined || piece === '') throw badModel(`piece ${id} is empty.`);
  if (type === undefined) throw badModel(`piece ${id} (${JSON.stringify(piece)}) has unknown type ${typeNumber}.`);
  return { piece, score, type };
}

/** Parses and validates a sentencepiece `tokenizer.model`. Throws EngineError('bad-model'). */
export function parseSentencePieceModel(bytes: Uint8Array): SentencePieceModel {
  const pieces: SentencePiece[] = [];
  let modelType = 1; // TrainerSpec.model_type defaults to UNIGRAM
  let byteFallback = false;
  let treatWhitespaceAsSuffix = false;
  let [unkId, bosId, eosId, padId] = [0, 1, 2, -1]; // TrainerSpec defaults
  let unkSurface = ' \u2047 ';
  const normalizer: NormalizerSettings = { name: '', addDummyPrefix: true, removeExtraWhitespaces: true, escapeWhitespaces: true };
  let hasCharacterMap = false;
  let hasDenormalizer = false;

  const model = new ProtoReader(bytes, 0, bytes.length, 'ModelProto');
  while (!model.done) {
    const { field, wireType } = model.tag();
    if (field === 1 || field === 2 || field === 3 || field === 5) model.expect(WIRE_LENGTH_DELIMITED, wireType, `field ${field}`);
    if (field === 1) {
      pieces.push(readPiece(model.message(`pieces[${pieces.length}]`), pieces.length));
    } else if (field === 2) {
      const trainer = model.message('TrainerSpec');
      while (!trainer.done) {
        const { field: number, wireType: type } = trainer.tag();
        if (number === 44) {
          trainer.expect(WIRE_LENGTH_DELIMITED, type, 'unk_surface');
          unkSurface = trainer.string();
          continue;
        }
        if (![3, 24, 35, 40, 41, 42, 43].includes(number)) {
          trainer.skip(type);
          continue;
        }
        trainer.expect(WIRE_VARINT, type, `field ${number}`);
        if (number === 3) modelType = trainer.int32();
        else if (number === 24) treatWhitespaceAsSuffix = trainer.bool();
        else if (number === 35) byteFallback = trainer.bool();
        else if (number === 40) unkId = trainer.int32();
        else if (number === 41) bosId = trainer.int32();
        else if (number === 42) eosId = trainer.int32();
        else padId = trainer.int32();
      }
    } else if (field === 3 || field === 5) {
      const spec = model.message(field === 3 ? 'NormalizerSpec' : 'denormalizer_spec');
      while (!spec.done) {
        const { field: number, wireType: type } = spec.tag();
        if (number === 1 && field === 3) {
          spec.expect(WIRE_LENGTH_DELIMITED, type, 'name');
          normalizer.name = spec.string();
        } else if (number === 2) {
          spec.expect(WIRE_LENGTH_DELIMITED, type, 'precompiled_charsmap');
          const [start, end] = spec.span();
          if (end > start) {
            if (field === 3) hasCharacterMap = true;
            else hasDenormalizer = true;
          }
        } else if (field === 3 && number >= 3 && number <= 5) {
          spec.expect(WIRE_VARINT, type, `field ${number}`);
          const value = spec.bool();
          if (number === 3) normalizer.addDummyPrefix = value;
          else if (number === 4) normalizer.removeExtraWhitespaces = value;
          else normalizer.escapeWhitespaces = value;
        } else spec.skip(type);
      }
    } else model.skip(wireType);
  }

  if (pieces.length === 0) throw badModel('it has no pieces; the file is not a sentencepiece model.');
  if (modelType !== BPE_MODEL_TYPE) {
    throw badModel(`model type is ${modelType}, not BPE (2); LLaMA tokenizers are BPE and this engine implements only BPE.`);
  }
  if (treatWhitespaceAsSuffix) throw badModel('treat_whitespace_as_suffix is set; LLaMA does not use it and it is not implemented.');
  if (hasDenormalizer) throw badModel('the model has a denormalizer, which is not implemented (LLaMA has none).');
  if (hasCharacterMap || (normalizer.name !== 'identity' && normalizer.name !== '')) {
    throw badModel(`normalizer "${normalizer.name}" is not implemented; only LLaMA's "identity" is.`);
  }
  normalizer.name = 'identity';
  return validateModel({ pieces, byteFallback, unkId, bosId, eosId, padId, unkSurface, normalizer }, badModel);
}

/** `<0x1F>` -> 0x1f; -1 for any other piece. sentencepiece writes exactly two upper-case hex digits. */
export function byteOfPiece(piece: string): number {
  return /^<0x[0-9A-F]{2}>$/.test(piece) ? parseInt(piece.slice(3, 5), 16) : -1;
}

/**
 * The checks sentencepiece makes when it loads a model (model_interface.cc), so a model either
 * loads here and tokenizes as sentencepiece would, or fails now with the reason.
 */
export function validateModel(model: SentencePieceModel, fail: (message: string) => EngineError): SentencePieceModel {
  const { pieces } = model;
  if (pieces.length === 0) throw fail('it has no pieces.');
  const seen = new Set<string>();
  const bytesFound = new Set<number>();
  let unknownCount = 0;
  pieces.forEach(({ piece, score, type }, id) => {
    if (piece === '') throw fail(`piece ${id} is empty.`);
    if (seen.has(piece)) throw fail(`piece ${JSON.stringify(piece)} is defined twice.`);
    seen.add(piece);
    if (Number.isNaN(score)) throw fail(`piece ${JSON.stringify(piece)} has a NaN score.`);
    if (type === 'unknown') unknownCount++;
    if (type === 'byte') {
      if (!model.byteFallback) throw fail(`byte piece ${piece} is found although byte_fallback is false.`);
      const byte = byteOfPiece(piece);
      if (byte < 0) throw fail(`byte piece ${JSON.stringify(piece)} is not of the form <0xXX>.`);
      bytesFound.add(byte);
    }
  });
  if (model.byteFallback && bytesFound.size !== 256) {
    throw fail(`byte_fallback is on but only ${bytesFound.size} of the 256 byte pieces exist.`);
  }
  if (unknownCount !== 1) throw fail(`it must have exactly one unknown piece, not ${unknownCount}.`);
  const checkId = (name: string, id: number, types: PieceType[], optional: boolean) => {
    if (optional && id === -1) return;
    if (!Number.isInteger(id) || id < 0 || id >= pieces.length) throw fail(`${name} ${id} is outside the ${pieces.length} pieces.`);
    if (!types.includes(pieces[id].type)) throw fail(`${name} ${id} is a ${pieces[id].type} piece, expected ${types.join(' or ')}.`);
  };
  checkId('unk_id', model.unkId, ['unknown'], false);
  checkId('bos_id', model.bosId, ['control'], true);
  checkId('eos_id', model.eosId, ['control'], true);
  checkId('pad_id', model.padId, ['control'], true);
  return model;
}
