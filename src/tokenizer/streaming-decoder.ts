/**
 * Decodes generated ids one at a time. This is sentencepiece's Decode
 * (sentencepiece_processor.cc) run as a state machine, and LlamaTokenizer.decode is built on it,
 * so the texts `push` returns, plus `flush`, always add up to `decode(allIds)`.
 *
 * Korean and emoji often arrive as byte-fallback pieces (`<0xEC>` `<0x95>` `<0x88>`) spread over
 * several steps; the bytes of an unfinished character are held until it completes, so no step
 * ever returns half a character.
 */
import { byteOfPiece, type PieceType, type SentencePieceModel } from './sentencepiece-model';
import { decodeUtf8 } from './utf8';

/** What decoding reads of a tokenizer (LlamaTokenizer is one, and decodes through this class). */
export interface DecoderVocabulary {
  readonly model: SentencePieceModel;
  /** Throws the tokenizer's error for an id outside the vocabulary. */
  checkId(id: number): void;
}

const SPACE_SYMBOL = '\u2581';

export class StreamingDecoder {
  private pendingBytes: number[] = [];
  /** Nothing visible has been produced yet. */
  private textEmpty = true;
  /** sentencepiece's is_bos_ws: the next "▁"-led piece may still be the dummy prefix. */
  private mayStripDummyPrefix = true;
  /** sentencepiece's bos_ws_seen: the last piece had its dummy-prefix "▁" removed. */
  private strippedDummyPrefix = false;

  constructor(private readonly tokenizer: DecoderVocabulary) {}

  /** Returns the text that `id` completes: possibly empty, never a broken character. */
  push(id: number): string {
    this.tokenizer.checkId(id);
    const { piece, type } = this.tokenizer.model.pieces[id];
    if (type === 'byte') {
      this.pendingBytes.push(byteOfPiece(piece));
      return this.takeBytes(false);
    }
    let text = this.takeBytes(true);
    if (this.strippedDummyPrefix || !this.textEmpty) this.mayStripDummyPrefix = false;
    text += this.surface(piece, type);
    this.textEmpty &&= text === '';
    return text;
  }

  /** Ends the stream: bytes of a character that never completed become U+FFFD each. */
  flush(): string {
    return this.takeBytes(true);
  }

  private takeBytes(final: boolean): string {
    if (this.pendingBytes.length === 0) return '';
    const { text, consumed } = decodeUtf8(this.pendingBytes, final);
    this.pendingBytes = this.pendingBytes.slice(consumed);
    this.textEmpty &&= text === '';
    return text;
  }

  /** sentencepiece's DecodeSentencePiece for one non-byte piece. */
  private surface(piece: string, type: PieceType): string {
    const { model } = this.tokenizer;
    this.strippedDummyPrefix = false;
    if (type === 'control') return '';
    if (type === 'unknown') return model.unkSurface;
    let text = piece;
    const { addDummyPrefix, removeExtraWhitespaces } = model.normalizer;
    if (this.mayStripDummyPrefix && (addDummyPrefix || removeExtraWhitespaces) && text.startsWith(SPACE_SYMBOL)) {
      text = text.slice(SPACE_SYMBOL.length);
      // With remove_extra_whitespaces every leading space goes, so keep stripping.
      this.strippedDummyPrefix = !removeExtraWhitespaces;
    }
    return text.replaceAll(SPACE_SYMBOL, ' ');
  }
}
