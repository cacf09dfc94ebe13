/**
 * Tokens per Hangul syllable: how many tokens a tokenizer spends on Korean. A model's speed in
 * tokens per second turns into Korean characters per second through this number (LLaMA-1's
 * sentencepiece falls back to three byte tokens for most syllables; Llama-3 and Qwen have most
 * syllables, or whole words, as tokens).
 */
import { EngineError } from '../errors';
import type { Tokenizer } from './tokenizer';

const HANGUL_SYLLABLE = /[\uAC00-\uD7A3]/g;

export function hangulSyllables(text: string): number {
  return text.match(HANGUL_SYLLABLE)?.length ?? 0;
}

/** All the tokens of `text` (spaces and punctuation included, no BOS) over its Hangul syllables. */
export function tokensPerSyllable(tokenizer: Pick<Tokenizer, 'encode'>, text: string): number {
  const syllables = hangulSyllables(text);
  if (syllables === 0) throw new EngineError('bad-input', 'Tokens per syllable need a text with Hangul syllables.');
  return tokenizer.encode(text).length / syllables;
}
