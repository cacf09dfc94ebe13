/**
 * Sampled tokens as readers of an answer see them (the API's `logprobs`): each token's text and
 * UTF-8 bytes, its log-probability and the likeliest alternatives. A Hangul syllable is often
 * three byte tokens: each carries its one byte, and only their concatenation is a character, so
 * `text` is the piece itself (`<0xEC>`) where the bytes alone are not valid UTF-8.
 */
import type { SampledToken } from '../model/llama';
import type { Tokenizer } from '../tokenizer/tokenizer';

export interface TokenText {
  id: number;
  text: string;
  bytes: number[];
}

export interface GeneratedToken extends TokenText {
  /** Present when log-probabilities were asked for: ln p(id) under the model's distribution. */
  logprob?: number;
  /** The likeliest tokens at this position, best first (TOP_LOGPROBS of them). */
  top?: (TokenText & { logprob: number })[];
}

const strictDecoder = new TextDecoder('utf-8', { fatal: true });

/** The bytes one token adds to a decoded text (Tokenizer.tokenBytes); none for an id past the tokenizer. */
export function tokenBytes(tokenizer: Tokenizer, id: number): number[] {
  if (id < 0 || id >= tokenizer.vocabSize) return [];
  return [...tokenizer.tokenBytes(id)];
}

export function tokenText(tokenizer: Tokenizer, id: number): TokenText {
  if (id < 0 || id >= tokenizer.vocabSize) return { id, text: `<id ${id}>`, bytes: [] };
  const bytes = tokenBytes(tokenizer, id);
  // A special token adds no text: it is named by its piece ("</s>", "<|eot_id|>"), as OpenAI names its own.
  if (bytes.length === 0 && tokenizer.isSpecial(id)) return { id, text: tokenizer.idToPiece(id), bytes };
  let text: string;
  try {
    text = strictDecoder.decode(new Uint8Array(bytes));
  } catch {
    text = tokenizer.displayPiece(id); // part of a character: "<0xEC>"
  }
  return { id, text, bytes };
}

/**
 * The tokens behind one piece of streamed text. `atStart`: the piece opens the answer, where
 * sentencepiece drops the dummy-prefix space of the first token, so its text and bytes drop it too
 * and the tokens' bytes add up to the answer's.
 */
export function generatedTokens(tokenizer: Tokenizer, sampled: readonly SampledToken[], piece: string, atStart: boolean): GeneratedToken[] {
  return sampled.map((token, index) => {
    const described: GeneratedToken = tokenText(tokenizer, token.id);
    if (atStart && index === 0 && described.bytes[0] === 0x20 && !piece.startsWith(' ')) {
      described.bytes = described.bytes.slice(1);
      described.text = described.text.slice(1);
    }
    if (token.score) {
      described.logprob = token.score.logprob;
      described.top = token.score.topIds.map((id, k) => ({ ...tokenText(tokenizer, id), logprob: token.score!.topLogprobs[k] }));
    }
    return described;
  });
}
