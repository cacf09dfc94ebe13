/**
 * Corners of sentencepiece's BPE that LLaMA's own model does not reach (UNUSED and user-defined
 * pieces, no byte fallback, remove_extra_whitespaces, no dummy prefix), on small handmade models.
 * Every expected id and text was produced by sentencepiece 0.1.97 (python) on the same models.
 */
import { describe, expect, it } from 'vitest';
import { LlamaTokenizer } from './llama-tokenizer';
import { encodeModelProto, smallModel } from './testing';

function tokenizerOf(model: ReturnType<typeof smallModel>): LlamaTokenizer {
  return LlamaTokenizer.fromSentencePiece(encodeModelProto(model));
}

describe('sentencepiece BPE corners', () => {
  // Ids: <unk>=0 <s>=1 </s>=2 ▁=3 a=4 b=5 c=6 d=7 bc=8 (unused) ab=9 abc=10 <sep>=11 (user-defined)
  // ▁a=12 cd=13 (unused) ▁▁=14 x=15 y=16; a higher piece scores higher.
  const withUnused = tokenizerOf(
    smallModel(['\u2581', 'a', 'b', 'c', 'd', ['bc', 'unused'], 'ab', 'abc', ['<sep>', 'user-defined'], '\u2581a', ['cd', 'unused'], '\u2581\u2581', 'x', 'y']),
  );

  it('merges through an UNUSED piece, and splits it back where nothing larger absorbed it', () => {
    expect(withUnused.encode('abc')).toEqual([3, 10]); // b+c -> bc (unused), a+bc -> abc
    expect(withUnused.encode('bc')).toEqual([3, 5, 6]); // bc alone is split back into b c
    expect(withUnused.encode('abcd')).toEqual([3, 10, 7]);
    expect(withUnused.encode('bcd')).toEqual([3, 5, 6, 7]);
    expect(withUnused.encode('cd')).toEqual([3, 6, 7]);
    expect(withUnused.encode('abcabc')).toEqual([3, 10, 10]);
  });

  it('matches user-defined pieces whole and never merges them', () => {
    expect(withUnused.encode('a<sep>bc')).toEqual([12, 11, 5, 6]);
    expect(withUnused.encode('<sep><sep>')).toEqual([3, 11, 11]);
  });

  it('without byte fallback, makes each run of unknown characters one <unk>', () => {
    expect(withUnused.encode('zz qq')).toEqual([3, 0, 3, 0]);
    expect(withUnused.encode('a 한국 b')).toEqual([12, 3, 0, 3, 5]);
    expect(withUnused.encode('xyz')).toEqual([3, 15, 16, 0]);
    expect(withUnused.encode('\t a')).toEqual([3, 0, 12]);
    expect(withUnused.decode(withUnused.encode('a 한국 b'))).toBe('a  \u2047  b');
  });

  it('keeps every space without remove_extra_whitespaces', () => {
    expect(withUnused.encode('  ab  ')).toEqual([14, 3, 9, 14]);
    expect(withUnused.encode('  a  b  ')).toEqual([14, 12, 14, 5, 14]);
    expect(withUnused.encode(' ')).toEqual([14]);
    expect(withUnused.encode('\u2581')).toEqual([14]);
    expect(withUnused.decode(withUnused.encode('  a  b  '))).toBe('  a  b  ');
  });

  // Ids: <unk> <s> </s>, bytes 3..258, ▁=259 a=260 b=261 ▁a=262 ab=263 ▁ab=264 ▁b=265.
  const trimming = tokenizerOf(
    smallModel(['\u2581', 'a', 'b', '\u2581a', 'ab', '\u2581ab', '\u2581b'], { byteFallback: true, removeExtraWhitespaces: true, addDummyPrefix: false }),
  );

  it('with remove_extra_whitespaces, drops leading, trailing and repeated spaces', () => {
    expect(trimming.encode('  ab  ')).toEqual([263]);
    expect(trimming.encode('  a  b  ')).toEqual([260, 265]);
    expect(trimming.encode('ab   ab')).toEqual([263, 264]);
    expect(trimming.encode(' ')).toEqual([]);
    expect(trimming.encode('a\u2581')).toEqual([260]); // a trailing literal "▁" is trimmed too
    expect(trimming.decode(trimming.encode('  a  b  '))).toBe('a b');
  });

  it('without a dummy prefix, falls back to bytes for what the vocabulary lacks', () => {
    expect(trimming.encode('abc')).toEqual([263, 3 + 0x63]);
    expect(trimming.encode('a 한국 b')).toEqual([260, 259, 240, 152, 159, 237, 184, 176, 265]);
    expect(trimming.encode('\t a')).toEqual([3 + 0x09, 262]);
    expect(trimming.encode('<sep>')).toEqual([...'<sep>'].map((character) => 3 + character.charCodeAt(0)));
    expect(trimming.decode(trimming.encode('\t a 한국 b'))).toBe('\t a 한국 b');
  });

  it('with remove_extra_whitespaces and a dummy prefix, adds the prefix after trimming', () => {
    const tokenizer = tokenizerOf(smallModel(['\u2581', 'a', 'b', '\u2581a'], { removeExtraWhitespaces: true }));
    expect(tokenizer.encode('  ab  ')).toEqual([6, 5]);
    expect(tokenizer.encode('  a  b  ')).toEqual([6, 3, 5]);
    expect(tokenizer.encode('abcabc')).toEqual([6, 5, 0, 4, 5, 0]);
    expect(tokenizer.decode([6, 3, 5])).toBe('a b');
  });
});
