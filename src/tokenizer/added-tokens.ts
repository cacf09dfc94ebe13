/**
 * tokenizer.json's `added_tokens`, split out of a text before anything else runs, as Hugging
 * Face tokenizers' AddedVocabulary::extract_and_normalize does: first the tokens that match the
 * raw text (normalized: false), then, in each piece between them once normalized, the tokens that
 * match normalized text. Matches are leftmost-longest; `single_word`, `lstrip` and `rstrip` act
 * as there. Special tokens are split out only from a rendered template (`withSpecials`): in text
 * a user typed they are plain text, so typing "<|im_start|>" never makes the control token.
 */
import { LiteralMatcher } from './special-text';
import type { Normalizer } from './pre-tokenizers';

export interface AddedToken {
  id: number;
  content: string;
  special: boolean;
  singleWord: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
}

/** A piece of text, or an added token's id. */
export type Piece = { text: string } | { id: number };

// tokenizers uses Rust regex's Unicode \w and \s here.
const endsWithWord = /[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]$/u;
const startsWithWord = /^[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]/u;
const spaceAtEnd = /\p{White_Space}*$/u;
const spaceAtStart = /^\p{White_Space}*/u;

export class AddedVocabulary {
  private readonly matchers: Record<'raw' | 'normalized', Record<'all' | 'plain', LiteralMatcher<AddedToken>>>;

  constructor(
    readonly tokens: readonly AddedToken[],
    private readonly normalizer: Normalizer | undefined,
  ) {
    const matcher = (normalized: boolean, specials: boolean) =>
      new LiteralMatcher<AddedToken>(
        tokens
          .filter((token) => token.normalized === normalized && (specials || !token.special))
          .map((token): [string, AddedToken] => [normalized && normalizer ? normalizer(token.content) : token.content, token]),
      );
    this.matchers = {
      raw: { all: matcher(false, true), plain: matcher(false, false) },
      normalized: { all: matcher(true, true), plain: matcher(true, false) },
    };
  }

  /** Special tokens' texts, to escape in typed text. */
  specialMatcher(): LiteralMatcher<AddedToken> {
    return new LiteralMatcher(this.tokens.filter((token) => token.special).map((token): [string, AddedToken] => [token.content, token]));
  }

  /**
   * Splits `text` at added tokens and normalizes the rest. `withSpecials` false: special tokens
   * stay text. `mapText` transforms each plain piece before it is normalized (the chat encoder
   * removes escape markers there).
   */
  split(text: string, withSpecials: boolean, mapText: (text: string) => string = (t) => t): Piece[] {
    const kind = withSpecials ? 'all' : 'plain';
    const out: Piece[] = [];
    for (const piece of this.find(text, this.matchers.raw[kind])) {
      if ('id' in piece) {
        out.push(piece);
        continue;
      }
      const plain = mapText(piece.text);
      const normalized = this.normalizer ? this.normalizer(plain) : plain;
      out.push(...this.find(normalized, this.matchers.normalized[kind]));
    }
    return out;
  }

  /** added_vocabulary.rs find_matches: pieces covering `sentence`, added tokens by id. */
  private find(sentence: string, matcher: LiteralMatcher<AddedToken>): Piece[] {
    if (matcher.empty) return sentence === '' ? [] : [{ text: sentence }];
    const pieces: Piece[] = [];
    let startOffset = 0;
    for (let match = matcher.find(sentence, 0); match; match = matcher.find(sentence, match.end)) {
      const token = match.value;
      let start = match.start;
      let stop = match.end;
      if (token.singleWord) {
        const startSpace = start === 0 || !endsWithWord.test(sentence.slice(0, start));
        const stopSpace = stop === sentence.length || !startsWithWord.test(sentence.slice(stop));
        if (!startSpace || !stopSpace) continue;
      }
      if (token.lstrip) start = Math.max(spaceAtEnd.exec(sentence.slice(0, start))!.index, startOffset);
      if (token.rstrip) stop += spaceAtStart.exec(sentence.slice(stop))![0].length;
      if (startOffset < start) pieces.push({ text: sentence.slice(startOffset, start) });
      pieces.push({ id: token.id });
      startOffset = stop;
    }
    if (startOffset < sentence.length) pieces.push({ text: sentence.slice(startOffset) });
    return pieces;
  }
}
