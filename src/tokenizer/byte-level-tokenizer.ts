/**
 * Byte-level BPE from a tokenizer.json (Llama-3, Qwen2/3, Mistral-Nemo, EXAONE), run as Hugging
 * Face tokenizers runs it (Tokenizer::encode_single_sequence, then the post-processor):
 *   added tokens split out -> normalizer (Qwen's NFC) -> pre-tokenizer (Split with the file's
 *   regex, ByteLevel) -> BPE per word (merges by rank, ignore_merges) -> post-processor's
 *   specials (Llama-3.2's <|begin_of_text|>) when asked.
 * Decoding is the ByteLevel decoder: the tokens' bytes joined and read as UTF-8, special tokens
 * skipped; streaming holds the bytes of an unfinished character back.
 */
import { EngineError } from '../errors';
import { AddedVocabulary, type AddedToken } from './added-tokens';
import { BpeModel } from './bpe-merges';
import { byteLevelBytes } from './byte-level';
import { readNormalizer, readPreTokenizer, type PreTokenizer } from './pre-tokenizers';
import { escapeSpecialTexts, unescapeSpecialTexts, type LiteralMatcher } from './special-text';
import type { EncodeOptions, TokenDecoder, Tokenizer, TokenizerConfigTokens } from './tokenizer';

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

function badModel(message: string): EngineError {
  return new EngineError('bad-model', `tokenizer.json: ${message}`);
}

// Lone surrogates cannot be UTF-8 (Rust strings cannot hold them): U+FFFD, as TextEncoder writes.
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Eos texts tried, in order, when tokenizer_config.json names none. */
const EOS_GUESSES = ['<|endoftext|>', '<|end_of_text|>', '</s>', '<|im_end|>'];

export class ByteLevelTokenizer implements Tokenizer {
  readonly kind = 'byte-level';
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  readonly eosId: number;
  /** Token text by id (model vocabulary and added tokens); undefined for ids the file skips. */
  private readonly pieces: (string | undefined)[] = [];
  /** Token text -> id: added tokens first (as the reference looks them up), then the vocabulary. */
  private readonly idOf: { get(piece: string): number | undefined };
  /** 1 = special added token, 2 = other added token. */
  private readonly addedKind: Uint8Array;
  private readonly bpe: BpeModel;
  private readonly preTokenizer: PreTokenizer;
  private readonly added: AddedVocabulary;
  private readonly specialTexts: LiteralMatcher<AddedToken>;
  /** What the post-processor puts before and after a text. */
  private readonly prefixIds: number[];
  private readonly suffixIds: number[];

  /** Whether a parsed tokenizer.json is byte-level BPE (a ByteLevel pre-tokenizer step). */
  static describes(root: unknown): boolean {
    const hasByteLevel = (step: unknown): boolean =>
      isObject(step) && (step.type === 'ByteLevel' || (step.type === 'Sequence' && Array.isArray(step.pretokenizers) && step.pretokenizers.some(hasByteLevel)));
    return isObject(root) && hasByteLevel(root.pre_tokenizer);
  }

  constructor(root: unknown, tokens: TokenizerConfigTokens = {}) {
    if (!isObject(root) || !isObject(root.model)) throw badModel('it has no "model" object.');
    const model = root.model;
    if (model.type !== undefined && model.type !== 'BPE') throw badModel(`the model type is ${JSON.stringify(model.type)}; a ByteLevel pre-tokenizer needs "BPE".`);
    if (model.dropout !== null && model.dropout !== undefined && model.dropout !== 0) throw badModel('BPE dropout makes encoding random; it is not supported.');

    const vocabulary = readVocabulary(model.vocab);
    for (const [piece, id] of vocabulary) this.pieces[id] = piece;
    const addedTokens = readAddedTokens(root.added_tokens, vocabulary);
    for (const token of addedTokens) this.pieces[token.id] = token.content;
    this.vocabSize = this.pieces.length;
    const addedIdOf = new Map(addedTokens.map((token) => [token.content, token.id]));
    this.idOf = { get: (piece) => addedIdOf.get(piece) ?? vocabulary.get(piece) };
    this.addedKind = new Uint8Array(this.vocabSize);
    for (const token of addedTokens) this.addedKind[token.id] = token.special ? 1 : 2;

    const normalizer = readNormalizer(root.normalizer);
    const preTokenization = readPreTokenizer(root.pre_tokenizer);
    this.preTokenizer = preTokenization.run;
    checkDecoder(root.decoder);
    const optionalString = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
    this.bpe = new BpeModel(
      vocabulary,
      readMerges(model.merges),
      {
        unkToken: optionalString(model.unk_token),
        byteFallback: model.byte_fallback === true,
        fuseUnk: model.fuse_unk === true,
        ignoreMerges: model.ignore_merges === true,
        continuingSubwordPrefix: optionalString(model.continuing_subword_prefix),
        endOfWordSuffix: optionalString(model.end_of_word_suffix),
      },
    );
    this.added = new AddedVocabulary(addedTokens, normalizer);
    this.specialTexts = this.added.specialMatcher();
    [this.prefixIds, this.suffixIds] = readPostProcessor(root.post_processor, this.idOf);

    const idOfToken = (token: string, role: string) => {
      const id = this.idOf.get(token);
      if (id === undefined) throw badModel(`the ${role} token ${JSON.stringify(token)} (tokenizer_config.json) is not in the vocabulary.`);
      return id;
    };
    // A config's bos_token of null (Qwen) means none, whatever the vocabulary holds.
    if (tokens.bosToken) this.bosId = idOfToken(tokens.bosToken, 'BOS');
    else if (tokens.bosToken === undefined && this.prefixIds.length > 0) this.bosId = this.prefixIds[0];
    if (tokens.eosToken) this.eosId = idOfToken(tokens.eosToken, 'EOS');
    else {
      const guess = EOS_GUESSES.find((text) => this.added.tokens.some((token) => token.content === text));
      if (guess === undefined) throw badModel('no EOS token: tokenizer_config.json names none and none of the usual ones is an added token.');
      this.eosId = this.idOf.get(guess)!;
    }
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    return this.run(text, false, (piece) => piece, options);
  }

  encodeChat(text: string, options: EncodeOptions = {}): number[] {
    return this.run(text, true, unescapeSpecialTexts, options);
  }

  escapeText(text: string): string {
    return escapeSpecialTexts(text, this.specialTexts);
  }

  decode(ids: readonly number[]): string {
    const decoder = this.streamingDecoder();
    let text = '';
    for (const id of ids) text += decoder.push(id);
    return text + decoder.flush();
  }

  streamingDecoder(): TokenDecoder {
    // WHATWG's UTF-8 decoder replaces ill-formed bytes as Rust's from_utf8_lossy does (one U+FFFD
    // per maximal subpart), and with {stream: true} holds back an unfinished character.
    const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });
    return {
      push: (id) => {
        this.checkId(id);
        const piece = this.pieces[id];
        if (piece === undefined || this.addedKind[id] === 1) return '';
        // Added tokens too go through the ByteLevel decoder ("<think>" is its own bytes).
        return utf8.decode(byteLevelBytes(piece), { stream: true });
      },
      flush: () => utf8.decode(),
    };
  }

  tokenBytes(id: number): Uint8Array {
    const piece = this.idToPiece(id);
    return this.addedKind[id] === 1 ? new Uint8Array(0) : byteLevelBytes(piece);
  }

  idToPiece(id: number): string {
    this.checkId(id);
    return this.pieces[id] ?? '';
  }

  displayPiece(id: number): string {
    const piece = this.idToPiece(id);
    if (this.addedKind[id] !== 0) return piece;
    const bytes = byteLevelBytes(piece);
    try {
      return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch {
      // Part of a character: its bytes, as sentencepiece writes byte pieces.
      return [...bytes].map((byte) => `<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`).join('');
    }
  }

  pieceToId(piece: string): number | undefined {
    return this.idOf.get(piece);
  }

  isSpecial(id: number): boolean {
    this.checkId(id);
    return this.addedKind[id] === 1;
  }

  checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new EngineError('bad-input', `Token id ${id} is outside the tokenizer's ${this.vocabSize} tokens.`);
    }
  }

  private run(text: string, withSpecials: boolean, mapText: (text: string) => string, options: EncodeOptions): number[] {
    const output = options.addBos ? [...this.prefixIds] : [];
    for (const piece of this.added.split(text.replace(loneSurrogate, '\uFFFD'), withSpecials, mapText)) {
      if ('id' in piece) output.push(piece.id);
      else for (const word of this.preTokenizer([piece.text])) this.bpe.tokenize(word, output);
    }
    if (options.addBos) output.push(...this.suffixIds);
    return output;
  }
}

function readVocabulary(vocabulary: unknown): Map<string, number> {
  if (!isObject(vocabulary)) throw badModel('model.vocab is not an object of token -> id.');
  const map = new Map<string, number>();
  for (const [piece, id] of Object.entries(vocabulary)) {
    if (!Number.isInteger(id) || (id as number) < 0 || (id as number) >= 2 ** 20) throw badModel(`vocabulary id ${JSON.stringify(id)} of ${JSON.stringify(piece)} is not an index.`);
    map.set(piece, id as number);
  }
  return map;
}

function readMerges(merges: unknown): [string, string][] {
  if (!Array.isArray(merges)) throw badModel('model.merges is not a list.');
  return merges.map((merge: unknown, rank) => {
    // Older files write "a b" (no token holds a space: it is "Ġ"); newer ones [a, b].
    if (typeof merge === 'string') {
      const space = merge.indexOf(' ');
      if (space > 0 && merge.indexOf(' ', space + 1) < 0) return [merge.slice(0, space), merge.slice(space + 1)];
    }
    const pair = merge;
    if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((half) => typeof half === 'string')) {
      throw badModel(`merge ${rank} (${JSON.stringify(merge)}) is not a pair of tokens.`);
    }
    return pair as [string, string];
  });
}

/**
 * added_tokens, with the ids the reference gives them: it adds them one by one (serialization.rs,
 * AddedVocabulary::add_tokens), so a token whose text is already in the vocabulary takes that id
 * and a new one the next free id past the model's vocabulary, whatever the file's "id" says
 * (the two agree in real files).
 */
function readAddedTokens(value: unknown, vocabulary: ReadonlyMap<string, number>): AddedToken[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw badModel('added_tokens is not a list.');
  const byContent = new Map<string, AddedToken>();
  let maxId = -1;
  for (const token of value as unknown[]) {
    if (!isObject(token) || typeof token.content !== 'string') throw badModel(`added token ${JSON.stringify(token)} has no content.`);
    if (token.content === '') continue;
    const special = token.special === true;
    const previous = byContent.get(token.content);
    let id = previous?.id ?? vocabulary.get(token.content);
    if (id === undefined) id = maxId < 0 ? vocabulary.size : maxId >= vocabulary.size || vocabulary.size === 0 ? maxId + 1 : vocabulary.size;
    maxId = Math.max(maxId, id);
    byContent.set(token.content, {
      id,
      content: token.content,
      // Once special, always special (the reference's special_tokens_set only grows).
      special: special || previous?.special === true,
      singleWord: token.single_word === true,
      lstrip: token.lstrip === true,
      rstrip: token.rstrip === true,
      // AddedToken's default: normalized unless special.
      normalized: typeof token.normalized === 'boolean' ? token.normalized : !special,
    });
  }
  return [...byContent.values()];
}

/** The ids a post-processor puts before and after a single text. */
function readPostProcessor(value: unknown, idOf: { get(piece: string): number | undefined }): [number[], number[]] {
  if (value === null || value === undefined) return [[], []];
  if (!isObject(value)) throw badModel(`the post_processor ${JSON.stringify(value)} is not supported.`);
  const idOfToken = (token: unknown) => {
    const id = typeof token === 'string' ? idOf.get(token) : undefined;
    if (id === undefined) throw badModel(`the post-processor's token ${JSON.stringify(token)} is not in the vocabulary.`);
    return id;
  };
  switch (value.type) {
    case 'ByteLevel':
      return [[], []]; // offsets only
    case 'Sequence': {
      if (!Array.isArray(value.processors)) throw badModel('a Sequence post_processor without processors.');
      const parts = value.processors.map((processor) => readPostProcessor(processor, idOf));
      return [parts.flatMap(([prefix]) => prefix), parts.flatMap(([, suffix]) => suffix)];
    }
    case 'TemplateProcessing': {
      if (!Array.isArray(value.single) || !isObject(value.special_tokens)) throw badModel('a TemplateProcessing post_processor without "single" and "special_tokens".');
      const specials = value.special_tokens;
      const sides: [number[], number[]] = [[], []];
      let side = 0;
      for (const item of value.single) {
        if (isObject(item) && isObject(item.Sequence)) side = 1;
        else if (isObject(item) && isObject(item.SpecialToken)) {
          const special = specials[item.SpecialToken.id as string];
          if (!isObject(special) || !Array.isArray(special.ids)) throw badModel(`the post-processor's special token ${JSON.stringify(item.SpecialToken.id)} has no ids.`);
          sides[side].push(...(special.ids as number[]));
        } else throw badModel(`the TemplateProcessing item ${JSON.stringify(item)} is not supported.`);
      }
      return sides;
    }
    case 'RobertaProcessing':
    case 'BertProcessing': {
      const [cls, sep] = [value.cls, value.sep];
      if (!Array.isArray(cls) || !Array.isArray(sep)) throw badModel(`the ${value.type} post_processor has no cls and sep.`);
      return [[idOfToken(cls[0])], [idOfToken(sep[0])]];
    }
    default:
      throw badModel(`the post_processor ${JSON.stringify(value.type)} is not supported.`);
  }
}

/** Byte-level vocabularies only read back right through the ByteLevel decoder. */
function checkDecoder(value: unknown): void {
  const isByteLevel = (step: unknown): boolean =>
    isObject(step) && (step.type === 'ByteLevel' || (step.type === 'Sequence' && Array.isArray(step.decoders) && step.decoders.length === 1 && isByteLevel(step.decoders[0])));
  if (!isByteLevel(value)) throw badModel(`the decoder ${JSON.stringify(value)?.slice(0, 200)} is not ByteLevel, which a byte-level vocabulary needs.`);
}
