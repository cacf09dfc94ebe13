/**
 * Tokens per Hangul syllable on the paper's Korean, for each tokenizer the README lists (the
 * numbers there come from this measurement; the ids behind them are checked exact elsewhere).
 */
import { describe, expect, it } from 'vitest';
import { PAPER_KOREAN_TEXT } from '../chat/korean-text';
import { LlamaTokenizer } from './llama-tokenizer';
import { tokenizerFromJson } from './load-tokenizer';
import { hangulSyllables, tokensPerSyllable } from './syllables';
import { llamaModelBytes } from './testing';
import { realTokenizerFiles } from './testing/real-tokenizers';
import type { Tokenizer } from './tokenizer';

describe('tokens per Hangul syllable on the paper\'s Korean (143 syllables)', () => {
  it('counts the syllables U+AC00..U+D7A3 only', () => {
    expect(hangulSyllables(PAPER_KOREAN_TEXT)).toBe(143);
    expect(hangulSyllables('한국어 ㄱㄴ abc 123 \u1100\u1161')).toBe(3);
  });

  it.each([
    { name: 'LLaMA-1/2 sentencepiece (tokenizer.model)', open: (): Tokenizer => LlamaTokenizer.fromSentencePiece(llamaModelBytes()), tokens: 302, perSyllable: '2.11' },
    { name: 'Llama-3.x byte-level BPE', open: () => tokenizerFromJson(realTokenizerFiles('llama3').tokenizerJson, { eosToken: '<|eot_id|>' }), tokens: 126, perSyllable: '0.88' },
    { name: 'Qwen2.5/Qwen3 byte-level BPE', open: () => tokenizerFromJson(realTokenizerFiles('qwen3').tokenizerJson, { eosToken: '<|im_end|>' }), tokens: 136, perSyllable: '0.95' },
  ])('$name: $tokens tokens, $perSyllable per syllable', ({ open, tokens, perSyllable }) => {
    const tokenizer = open();
    expect(tokenizer.encode(PAPER_KOREAN_TEXT)).toHaveLength(tokens);
    expect(tokensPerSyllable(tokenizer, PAPER_KOREAN_TEXT).toFixed(2)).toBe(perSyllable);
  });
});
