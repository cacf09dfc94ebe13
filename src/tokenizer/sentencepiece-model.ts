/**
 * sentencepiece's `tokenizer.model`: a protobuf `ModelProto` (sentencepiece_model.proto), read by
 * the minimal wire-format reader in protobuf-reader.ts. Only the fields a LLaMA BPE tokenizer
 * needs are kept; every other field is skipped by its wire type. `validateModel` holds the load-time checks
 * (those of sentencepiece's model_interface.cc, plus what this engine does not implement), and is
 * shared with the tokenizer.json path so both end in the same validated form.
 */
import { EngineError } from '../errors';
import { ProtoReader, WIRE_FIXED32, WIRE_LENGTH_DELIMITED, WIRE_VARINT } from './protobuf-reader';

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

// Field numbers of sentencepiece_model.proto.
const MODEL = { pieces: 1, trainerSpec: 2, normalizerSpec: 3, denormalizerSpec: 5 };
const PIECE = { piece: 1, score: 2, type: 3 };
const TRAINER = { modelType: 3, treatWhitespaceAsSuffix: 24, byteFallback: 35, unkId: 40, bosId: 41, eosId: 42, padId: 43, unkSurface: 44 };
const NORMALIZER = { name: 1, precompiledCharsmap: 2, addDummyPrefix: 3, removeExtraWhitespaces: 4, escapeWhitespaces: 5 };

function readPiece(reader: ProtoReader, id: number): SentencePiece {
  let piece: string | undefined;
  let score = 0;
  let typeNumber = 1; // NORMAL is the proto default
  while (!reader.done) {
    const { field, wireType } = reader.tag();
    if (field === PIECE.piece) {
      reader.expect(WIRE_LENGTH_DELIMITED, wireType, 'piece');
      piece = reader.string();
    } else if (field === PIECE.score) {
      reader.expect(WIRE_FIXED32, wireType, 'score');
      score = reader.float();
    } else if (field === PIECE.type) {
      reader.expect(WIRE_VARINT, wireType, 'type');
      typeNumber = reader.int32();
    } else reader.skip(wireType);
  }
  const type = pieceTypeByNumber[typeNumber - 1];
  if (piece === undefined || piece === '') throw badModel(`piece ${id} is empty.`);
  if (type === undefined) throw badModel(`piece ${id} (${JSON.stringify(piece)}) has unknown type ${typeNumber}.`);
  return { piece, score, type };
}

interface TrainerSettings {
  modelType: number;
  treatWhitespaceAsSuffix: boolean;
  byteFallback: boolean;
  unkId: number;
  bosId: number;
  eosId: number;
  padId: number;
  unkSurface: string;
}

function readTrainerSpec(reader: ProtoReader, trainer: TrainerSettings): void {
  while (!reader.done) {
    const { field, wireType } = reader.tag();
    if (field === TRAINER.unkSurface) {
      reader.expect(WIRE_LENGTH_DELIMITED, wireType, 'unk_surface');
      trainer.unkSurface = reader.string();
    } else if (field === TRAINER.modelType || (field >= TRAINER.unkId && field <= TRAINER.padId)) {
      reader.expect(WIRE_VARINT, wireType, `field ${field}`);
      const value = reader.int32();
      if (field === TRAINER.modelType) trainer.modelType = value;
      else if (field === TRAINER.unkId) trainer.unkId = value;
      else if (field === TRAINER.bosId) trainer.bosId = value;
      else if (field === TRAINER.eosId) trainer.eosId = value;
      else trainer.padId = value;
    } else if (field === TRAINER.byteFallback || field === TRAINER.treatWhitespaceAsSuffix) {
      reader.expect(WIRE_VARINT, wireType, `field ${field}`);
      if (field === TRAINER.byteFallback) trainer.byteFallback = reader.bool();
      else trainer.treatWhitespaceAsSuffix = reader.bool();
    } else reader.skip(wireType);
  }
}

/** Reads a NormalizerSpec; returns whether it carries compiled rules (a precompiled_charsmap). */
function readNormalizerSpec(reader: ProtoReader, normalizer: NormalizerSettings): boolean {
  let hasRules = false;
  while (!reader.done) {
    const { field, wireType } = reader.tag();
    if (field === NORMALIZER.name) {
      reader.expect(WIRE_LENGTH_DELIMITED, wireType, 'name');
      normalizer.name = reader.string();
    } else if (field === NORMALIZER.precompiledCharsmap) {
      reader.expect(WIRE_LENGTH_DELIMITED, wireType, 'precompiled_charsmap');
      const [start, end] = reader.span();
      hasRules ||= end > start;
    } else if (field >= NORMALIZER.addDummyPrefix && field <= NORMALIZER.escapeWhitespaces) {
      reader.expect(WIRE_VARINT, wireType, `field ${field}`);
      const value = reader.bool();
      if (field === NORMALIZER.addDummyPrefix) normalizer.addDummyPrefix = value;
      else if (field === NORMALIZER.removeExtraWhitespaces) normalizer.removeExtraWhitespaces = value;
      else normalizer.escapeWhitespaces = value;
    } else reader.skip(wireType);
  }
  return hasRules;
}

/** Parses and validates a sentencepiece `tokenizer.model`. Throws EngineError('bad-model'). */
export function parseSentencePieceModel(bytes: Uint8Array): SentencePieceModel {
  const pieces: SentencePiece[] = [];
  // The proto defaults, for fields a file leaves out.
  const trainer: TrainerSettings = {
    modelType: 1, // UNIGRAM
    treatWhitespaceAsSuffix: false,
    byteFallback: false,
    unkId: 0,
    bosId: 1,
    eosId: 2,
    padId: -1,
    unkSurface: ' \u2047 ',
  };
  const normalizer: NormalizerSettings = { name: '', addDummyPrefix: true, removeExtraWhitespaces: true, escapeWhitespaces: true };
  let hasNormalizerRules = false;
  let hasDenormalizer = false;

  const model = new ProtoReader(bytes, 0, bytes.length, 'ModelProto', badModel);
  while (!model.done) {
    const { field, wireType } = model.tag();
    if (!Object.values(MODEL).includes(field)) {
      model.skip(wireType);
      continue;
    }
    model.expect(WIRE_LENGTH_DELIMITED, wireType, `field ${field}`);
    if (field === MODEL.pieces) pieces.push(readPiece(model.message(`pieces[${pieces.length}]`), pieces.length));
    else if (field === MODEL.trainerSpec) readTrainerSpec(model.message('TrainerSpec'), trainer);
    else if (field === MODEL.normalizerSpec) hasNormalizerRules = readNormalizerSpec(model.message('NormalizerSpec'), normalizer);
    else hasDenormalizer = readNormalizerSpec(model.message('denormalizer_spec'), { ...normalizer });
  }

  if (pieces.length === 0) throw badModel('it has no pieces; the file is not a sentencepiece model.');
  if (trainer.modelType !== BPE_MODEL_TYPE) {
    throw badModel(`model type is ${trainer.modelType}, not BPE (2); LLaMA tokenizers are BPE and this engine implements only BPE.`);
  }
  if (trainer.treatWhitespaceAsSuffix) throw badModel('treat_whitespace_as_suffix is set; LLaMA does not use it and it is not implemented.');
  if (hasDenormalizer) throw badModel('the model has a denormalizer, which is not implemented (LLaMA has none).');
  if (hasNormalizerRules || (normalizer.name !== 'identity' && normalizer.name !== '')) {
    throw badModel(`normalizer "${normalizer.name}" is not implemented; only LLaMA's "identity" is.`);
  }
  normalizer.name = 'identity';
  const { byteFallback, unkId, bosId, eosId, padId, unkSurface } = trainer;
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
