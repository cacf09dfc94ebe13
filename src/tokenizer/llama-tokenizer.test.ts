import llamaTokenizerJs from 'llama-tokenizer-js';
import { describe, expect, it } from 'vitest';
import { isEngineError } from '../errors';
import { LlamaTokenizer } from './llama-tokenizer';
import { encodeModelProto, llamaModelBytes, seededRandom, smallModel } from './testing';

const tokenizer = LlamaTokenizer.fromSentencePiece(llamaModelBytes());

const systemPrompt =
  '호기심 많은 USER와 인공지능 ASSISTANT 간의 채팅. ASSISTANT가 USER의 질문에 대해 유용하고 상세하며 정중한 답변을 제공합니다.';
const fibonacci = 'def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n';

// Ids from sentencepiece 0.1.97 (python) on the same tokenizer.model.
const sentencePieceIds: [string, number[]][] = [
  ['Hello world', [15043, 3186]],
  ['하와이 3일 여행 계획과 예산', [29871, 30944, 239, 156, 131, 30393, 29871, 29941, 31153, 29871, 31457, 240, 153, 140, 29871, 237, 182, 135, 240, 157, 144, 31906, 29871, 239, 155, 139, 31458]],
  ['삼국 통일 이후 신라', [29871, 239, 133, 191, 31293, 29871, 240, 137, 184, 31153, 29871, 30393, 240, 158, 135, 29871, 31262, 31197]],
  [fibonacci, [822, 18755, 265, 21566, 29898, 29876, 1125, 13, 1678, 565, 302, 529, 29871, 29906, 29901, 13, 4706, 736, 302, 13, 1678, 736, 18755, 265, 21566, 29898, 29876, 448, 29871, 29896, 29897, 718, 18755, 265, 21566, 29898, 29876, 448, 29871, 29906, 29897, 13]],
  ['I ❤️ 🦙!', [306, 29871, 229, 160, 167, 30598, 29871, 243, 162, 169, 156, 29991]],
  ['  leading and trailing  ', [259, 8236, 322, 25053, 259]],
  ['a\tb\r\nc', [263, 12, 29890, 30004, 13, 29883]],
  ['𠜎𠜱', [29871, 243, 163, 159, 145, 243, 163, 159, 180]],
  ['</s>', [1533, 29879, 29958]],
  [' ', [259]],
  ['\n', [29871, 13]],
  ['', []],
];

/** Korean, English, code, emoji, rare CJK, whitespace runs, control characters, specials as text. */
const alphabet = [
  ...'abcXYZ 019 .,!?()\'"-_<>/\\{}[]:;=+*#@~`éüßñ한국어하와이신라인공지능채팅답변를을',
  ...['  ', '   ', '    ', '\n', '\n\n', '\t', '\r\n', '\u00a0', '\u3000', '\u200b', '\uFEFF', '\u0000', '\u2581'],
  ...['中文', '日本語', 'Ελληνικά', 'Русский', '🤗', '👍🏽', '🦙', '❤️', '𝔸', '𠜎', '겈', '뷁', 'ﬁ', '<s>', '</s>', '<unk>'],
];

function randomStrings(seed: number, count: number, maxLength: number): string[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const length = 1 + Math.floor(random() * maxLength);
    let text = '';
    for (let index = 0; index < length; index++) text += alphabet[Math.floor(random() * alphabet.length)];
    return text;
  });
}

const namedStrings = [
  systemPrompt,
  '하와이 3일 여행 계획과 예산',
  '삼국 통일 이후 신라',
  'The quick brown fox jumps over the lazy dog.',
  fibonacci,
  '😀😃 emoji 🤗👍🏽 and 🦙 llamas',
  '𠜎𠜱𠝹 rare CJK 龘 and Hangul 겈뷁 by byte fallback',
  'tabs\tand\t\ttabs',
  '   leading spaces',
  'trailing spaces   ',
  ' ',
  '        ',
  'line one\nline two\n\n\nline five\r\n',
  'a          b',
];

describe('LlamaTokenizer.encode', () => {
  it('gives the ids sentencepiece gives', () => {
    for (const [text, ids] of sentencePieceIds) expect(tokenizer.encode(text), JSON.stringify(text)).toEqual(ids);
    expect(tokenizer.encode(systemPrompt).slice(0, 12)).toEqual([29871, 31603, 30827, 239, 142, 175, 29871, 238, 170, 145, 31354, 3148]);
  });

  it('puts the model BOS first on request', () => {
    expect(tokenizer.encode('Hello world', { addBos: true })).toEqual([1, 15043, 3186]);
    expect(tokenizer.encode('', { addBos: true })).toEqual([1]);
  });

  it('agrees with llama-tokenizer-js on Korean, English, code, emoji, rare characters and whitespace', () => {
    for (const text of namedStrings) {
      expect(tokenizer.encode(text), JSON.stringify(text)).toEqual(llamaTokenizerJs.encode(text, false, true));
    }
  });

  it('agrees with llama-tokenizer-js on 400 seeded random strings', () => {
    for (const text of randomStrings(2024, 400, 48)) {
      expect(tokenizer.encode(text), JSON.stringify(text)).toEqual(llamaTokenizerJs.encode(text, false, true));
    }
  });

  it('encodes a 20,000-character Korean text as llama-tokenizer-js does', () => {
    const text = (systemPrompt + ' 하와이 3일 여행 계획과 예산. 삼국 통일 이후 신라\n').repeat(200).slice(0, 20_000);
    const ids = tokenizer.encode(text);
    expect(ids).toEqual(llamaTokenizerJs.encode(text, false, true));
    expect(tokenizer.decode(ids)).toBe(text);
  });

  it('turns lone surrogates into U+FFFD, as UTF-8 encoding would', () => {
    expect(tokenizer.encode('a\uD800b')).toEqual(tokenizer.encode('a\uFFFDb'));
  });
});

describe('LlamaTokenizer.encodeChat', () => {
  it('splits a Vicuna prompt at </s> and encodes each side with its own dummy prefix', () => {
    const prompt = 'SYSTEM USER: 안녕 ASSISTANT: 반가워요</s>USER: 다시 ASSISTANT:';
    const expected = [
      ...[28962, 1254, 12665, 3148, 1001, 29901, 29871, 31734, 238, 136, 152, 319, 1799, 9047, 13566, 29901, 29871, 238, 179, 155, 30903, 239, 158, 143, 31527],
      2,
      ...[3148, 1001, 29901, 29871, 30709, 30889, 319, 1799, 9047, 13566, 29901],
    ];
    expect(tokenizer.encodeChat(prompt)).toEqual(expected);
    expect(tokenizer.encodeChat(prompt, { addBos: true })).toEqual([1, ...expected]);
    expect(tokenizer.encodeChat(prompt)).toEqual([
      ...tokenizer.encode('SYSTEM USER: 안녕 ASSISTANT: 반가워요'),
      tokenizer.eosId,
      ...tokenizer.encode('USER: 다시 ASSISTANT:'),
    ]);
  });

  it('strips no whitespace around special tokens and skips empty pieces', () => {
    expect(tokenizer.encodeChat('a </s> b')).toEqual([...tokenizer.encode('a '), 2, ...tokenizer.encode(' b')]);
    expect(tokenizer.encodeChat(' b')).toEqual([29871, 289]); // " b" alone: "▁▁b" as "▁" "▁b"
    expect(tokenizer.encodeChat('<s></s><unk></s>')).toEqual([1, 2, 0, 2]);
    expect(tokenizer.encodeChat('<s>Hi</s>')).toEqual([1, ...tokenizer.encode('Hi'), 2]);
    expect(tokenizer.encodeChat('')).toEqual([]);
    expect(tokenizer.encodeChat('</s')).toEqual(tokenizer.encode('</s'));
  });

  it('matches plain encode where no special text appears', () => {
    for (const text of randomStrings(7, 100, 32)) {
      if (!/<s>|<\/s>|<unk>/.test(text)) expect(tokenizer.encodeChat(text)).toEqual(tokenizer.encode(text));
    }
  });
});

describe('LlamaTokenizer.decode', () => {
  it('decodes as sentencepiece does', () => {
    // Expected texts from sentencepiece 0.1.97 (python).
    expect(tokenizer.decode([1, 15043, 3186, 2])).toBe('Hello world');
    expect(tokenizer.decode([1, 29871, 29871, 15043])).toBe('  Hello');
    expect(tokenizer.decode([2, 29871, 1576])).toBe('The');
    expect(tokenizer.decode([0, 15043])).toBe(' \u2047  Hello');
    expect(tokenizer.decode([3 + 0xec, 3 + 0x95])).toBe('\uFFFD\uFFFD');
    expect(tokenizer.decode([3 + 0xed, 3 + 0xa0, 3 + 0x80])).toBe('\uFFFD\uFFFD\uFFFD'); // a UTF-16 surrogate in UTF-8
    expect(tokenizer.decode([3 + 0xf0, 3 + 0x9f, 15043])).toBe('\uFFFD\uFFFD Hello');
    expect(tokenizer.decode([1, 3 + 0x20, 15043])).toBe('  Hello'); // a byte space is not a dummy prefix
  });

  it('round-trips text through encode', () => {
    for (const text of [...namedStrings, ...randomStrings(5, 300, 48)]) {
      // A literal "▁" is sentencepiece's space symbol, so it comes back as a space.
      const expected = text.replaceAll('\u2581', ' ');
      expect(tokenizer.decode(tokenizer.encode(text, { addBos: true }))).toBe(expected);
    }
  });

  it('refuses ids outside the vocabulary', () => {
    expect(() => tokenizer.decode([15043, 32000])).toThrow(/32000/);
    let caught: unknown;
    try {
      tokenizer.decode([-1]);
    } catch (error) {
      caught = error;
    }
    expect(isEngineError(caught, 'bad-input')).toBe(true);
  });
});

describe('LlamaTokenizer vocabulary', () => {
  it('takes its special ids from the model', () => {
    expect([tokenizer.bosId, tokenizer.eosId, tokenizer.unkId, tokenizer.vocabSize]).toEqual([1, 2, 0, 32000]);
    // <unk> <s> </s> ▁ a, reversed: a=0 ▁=1 </s>=2 <s>=3 <unk>=4.
    const reversed = smallModel(['\u2581', 'a']);
    reversed.pieces.reverse();
    Object.assign(reversed, { unkId: 4, bosId: 3, eosId: 2 });
    const small = LlamaTokenizer.fromSentencePiece(encodeModelProto(reversed));
    expect([small.bosId, small.eosId, small.unkId]).toEqual([3, 2, 4]);
    expect(small.encodeChat('<s>a</s>é', { addBos: true })).toEqual([3, 3, 1, 0, 2, 1, 4]);
    expect(small.decode([3, 1, 0, 2, 4])).toBe('a \u2047 ');
  });

  it('maps ids and pieces both ways', () => {
    expect(tokenizer.idToPiece(15043)).toBe('\u2581Hello');
    expect(tokenizer.pieceToId('\u2581Hello')).toBe(15043);
    expect(tokenizer.pieceToId('<0x0A>')).toBe(13);
    expect(tokenizer.pieceToId('no such piece')).toBeUndefined();
    expect(() => tokenizer.idToPiece(32000)).toThrow(/outside/);
  });

  it('calls control and unknown pieces special, and nothing else', () => {
    expect([0, 1, 2].map((id) => tokenizer.isSpecial(id))).toEqual([true, true, true]);
    expect([3, 13, 259, 15043, 31999].map((id) => tokenizer.isSpecial(id))).toEqual([false, false, false, false, false]);
  });
});
