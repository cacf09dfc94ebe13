/**
 * The LLaMA tokenizer: sentencepiece semantics (normalize, score-based BPE with byte fallback,
 * decode) over a model read from `tokenizer.model` or a Hugging Face `tokenizer.json`.
 * Special token ids always come from the model.
 */
import { EngineError } from '../errors';
import { SentencePieceBpe } from './sentencepiece-bpe';
import { byteOfPiece, parseSentencePieceModel, type SentencePieceModel } from './sentencepiece-model';
import { escapeSpecialTexts, LiteralMatcher, unescapeSpecialTexts } from './special-text';
import { StreamingDecoder } from './streaming-decoder';
import type { EncodeOptions, TokenDecoder, Tokenizer } from './tokenizer';
import { parseTokenizerJson, type TokenizerJsonOptions } from './tokenizer-json';

export type { EncodeOptions } from './tokenizer';

const SPACE_SYMBOL = '\u2581'; // "▁", sentencepiece's escaped space
const encoder = new TextEncoder();

// Lone surrogates cannot be UTF-8; sentencepiece would see U+FFFD where a browser's TextEncoder
// put one, so replace them the same way before anything else looks at the text.
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export class LlamaTokenizer implements Tokenizer {
  readonly kind = 'sentencepiece';
  private readonly bpe: SentencePieceBpe;
  private readonly idOfPiece = new Map<string, number>();
  /** CONTROL and UNKNOWN piece texts, for encodeChat and escapeText. */
  private readonly specialTexts: LiteralMatcher<number>;

  /** `model` must come from parseSentencePieceModel or parseTokenizerJson (both validate it). */
  constructor(readonly model: SentencePieceModel) {
    if (model.bosId < 0 || model.eosId < 0) {
      throw new EngineError('bad-model', 'The tokenizer defines no BOS or EOS token, which a LLaMA chat needs.');
    }
    this.bpe = new SentencePieceBpe(model);
    const specials: [string, number][] = [];
    model.pieces.forEach(({ piece, type }, id) => {
      this.idOfPiece.set(piece, id);
      if (type === 'control' || type === 'unknown') specials.push([piece, id]);
    });
    this.specialTexts = new LiteralMatcher(specials);
  }

  static fromSentencePiece(bytes: Uint8Array): LlamaTokenizer {
    return new LlamaTokenizer(parseSentencePieceModel(bytes));
  }

  static fromTokenizerJson(text: string, options?: TokenizerJsonOptions): LlamaTokenizer {
    return new LlamaTokenizer(parseTokenizerJson(text, options));
  }

  get bosId(): number {
    return this.model.bosId;
  }

  get eosId(): number {
    return this.model.eosId;
  }

  get unkId(): number {
    return this.model.unkId;
  }

  get vocabSize(): number {
    return this.model.pieces.length;
  }

  idToPiece(id: number): string {
    this.checkId(id);
    return this.model.pieces[id].piece;
  }

  /** The id of a piece's exact text ("▁Hello", "<0x0A>", "</s>"); undefined when there is none. */
  pieceToId(piece: string): number | undefined {
    return this.idOfPiece.get(piece);
  }

  /** CONTROL and UNKNOWN pieces (`<s>`, `</s>`, `<unk>`, tokenizer.json's special added tokens). */
  isSpecial(id: number): boolean {
    this.checkId(id);
    const { type } = this.model.pieces[id];
    return type === 'control' || type === 'unknown';
  }

  /**
   * sentencepiece's encode: special-token texts such as "<s>" are plain text here (use
   * encodeChat for templates).
   */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const output = options.addBos ? [this.bosId] : [];
    this.bpe.encode(this.normalize(text), output);
    return output;
  }

  /**
   * Encodes a rendered chat template as transformers' slow LlamaTokenizer with legacy=true does,
   * which is how 2023 LLaMA fine-tunes such as Vicuna were trained: the text is split at every
   * literal special-token text (longest first, no whitespace stripped around it), each special
   * becomes its id, and each non-empty piece between them is encoded on its own, so each gets
   * its own dummy-prefix "▁" ("</s>USER:" -> 2, then encode("USER:")). Text escaped with
   * escapeText keeps its special-token texts as text.
   */
  encodeChat(text: string, options: EncodeOptions = {}): number[] {
    const output = options.addBos ? [this.bosId] : [];
    let pieceStart = 0;
    const plain = (end: number) => {
      const piece = unescapeSpecialTexts(text.slice(pieceStart, end));
      if (piece !== '') this.bpe.encode(this.normalize(piece), output);
    };
    for (let match = this.specialTexts.find(text, 0); match; match = this.specialTexts.find(text, match.end)) {
      plain(match.start);
      output.push(match.value);
      pieceStart = match.end;
    }
    plain(text.length);
    return output;
  }

  escapeText(text: string): string {
    return escapeSpecialTexts(text, this.specialTexts);
  }

  streamingDecoder(): TokenDecoder {
    return new StreamingDecoder(this);
  }

  tokenBytes(id: number): Uint8Array {
    this.checkId(id);
    const { piece, type } = this.model.pieces[id];
    if (type === 'byte') return Uint8Array.of(byteOfPiece(piece));
    if (type === 'control') return new Uint8Array(0);
    if (type === 'unknown') return encoder.encode(this.model.unkSurface);
    return encoder.encode(piece.replaceAll(SPACE_SYMBOL, ' '));
  }

  /** sentencepiece pieces read as they are ("▁안", "<0xEC>"). */
  displayPiece(id: number): string {
    return this.idToPiece(id);
  }

  /**
   * sentencepiece's decode: "▁" becomes a space, byte pieces join into UTF-8 (U+FFFD per byte
   * that cannot), control pieces vanish, the unknown piece prints as the model's unk surface,
   * and the dummy-prefix space of the first piece is dropped.
   */
  decode(ids: readonly number[]): string {
    const decoder = new StreamingDecoder(this);
    let text = '';
    for (const id of ids) text += decoder.push(id);
    return text + decoder.flush();
  }

  /** Throws for an id outside the vocabulary (a model whose vocabulary outgrew its tokenizer). */
  checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.model.pieces.length) {
      throw new EngineError('bad-input', `Token id ${id} is outside the tokenizer's ${this.model.pieces.length} pieces.`);
    }
  }

  /**
   * sentencepiece's Normalizer::Normalize for the identity rule: optionally drop leading,
   * trailing and repeated spaces, add the dummy-prefix space, and turn spaces into "▁".
   * Only U+0020 counts as a space; tabs and newlines stay (and fall back to bytes).
   */
  private normalize(text: string): string {
    let input = text.replace(loneSurrogate, '\uFFFD');
    const { addDummyPrefix, removeExtraWhitespaces, escapeWhitespaces } = this.model.normalizer;
    if (removeExtraWhitespaces) input = input.replace(/^ +/, '').replace(/ {2,}/g, ' ');
    if (input === '') return ''; // no dummy prefix for empty text
    const space = escapeWhitespaces ? SPACE_SYMBOL : ' ';
    let normalized = (addDummyPrefix ? ' ' : '') + input;
    if (escapeWhitespaces) normalized = normalized.replaceAll(' ', SPACE_SYMBOL);
    if (removeExtraWhitespaces) {
      // sentencepiece trims trailing space symbols after escaping, so a literal trailing "▁" goes too.
      while (normalized.endsWith(space)) normalized = normalized.slice(0, -space.length);
    }
    return normalized;
  }
}
