import { describe, expect, it } from 'vitest';
import { isEngineError } from '../errors';
import { sentencePieceToTokenizerJson } from './llama-converter';
import { LlamaTokenizer } from './llama-tokenizer';
import { parseSentencePieceModel } from './sentencepiece-model';
import { llamaModelBytes, seededRandom } from './testing';
import { parseTokenizerJson } from './tokenizer-json';

const SPACE = '\u2581';
const llamaNormalizer = {
  type: 'Sequence',
  normalizers: [
    { type: 'Prepend', prepend: SPACE },
    { type: 'Replace', pattern: { String: ' ' }, content: SPACE },
  ],
};
const special = (id: number, content: string) => ({ id, content, special: true, lstrip: false, rstrip: false, normalized: false, single_word: false });

/** A tiny LLaMA-shaped tokenizer.json; `change` edits it before it is serialized. */
function smallJson(change: (json: any) => void = () => {}): string {
  const json: any = {
    version: '1.0',
    added_tokens: [special(0, '<unk>'), special(1, '<s>'), special(2, '</s>'), special(11, '<pad>'), { ...special(12, 'USR'), special: false }],
    normalizer: structuredClone(llamaNormalizer),
    pre_tokenizer: null,
    post_processor: { type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }] },
    model: {
      type: 'BPE',
      unk_token: '<unk>',
      byte_fallback: false,
      vocab: { '<unk>': 0, '<s>': 1, '</s>': 2, [SPACE]: 3, a: 4, b: 5, c: 6, [`${SPACE}a`]: 7, ab: 8, [`${SPACE}ab`]: 9, bc: 10 },
      merges: [`${SPACE} a`, 'a b', `${SPACE}a b`, 'b c'],
    },
  };
  change(json);
  return JSON.stringify(json);
}

function expectBadModel(text: string, message: RegExp): void {
  let caught: unknown;
  try {
    parseTokenizerJson(text);
  } catch (error) {
    caught = error;
  }
  expect(isEngineError(caught, 'bad-model'), String(caught)).toBe(true);
  expect((caught as Error).message).toMatch(message);
}

describe('parseTokenizerJson on a small handmade tokenizer.json', () => {
  const tokenizer = LlamaTokenizer.fromTokenizerJson(smallJson());

  it('scores each piece by the rank of the first merge that makes it', () => {
    const scores = tokenizer.model.pieces.map(({ score }) => score);
    expect(scores.slice(7, 11)).toEqual([-0, -1, -2, -3]);
    expect(tokenizer.model.pieces[11]).toEqual({ piece: '<pad>', score: 0, type: 'control' });
    expect(tokenizer.model.pieces[12]).toEqual({ piece: 'USR', score: 0, type: 'user-defined' });
    expect(tokenizer.model.normalizer).toEqual({ name: 'identity', addDummyPrefix: true, removeExtraWhitespaces: false, escapeWhitespaces: true });
  });

  it('encodes by score as sentencepiece would', () => {
    expect(tokenizer.encode('ab')).toEqual([9]); // ▁a first (rank 0), then ▁a+b
    expect(tokenizer.encode('abc')).toEqual([9, 6]);
    expect(tokenizer.encode('bc a')).toEqual([3, 10, 7]);
    expect(tokenizer.encode('x y')).toEqual([3, 0, 3, 0]); // no byte fallback: <unk>
    expect(tokenizer.encode('aUSRb')).toEqual([7, 12, 5]); // a non-special added token is matched whole
  });

  it('takes special ids from the file and treats special added tokens as specials', () => {
    expect([tokenizer.bosId, tokenizer.eosId, tokenizer.unkId, tokenizer.vocabSize]).toEqual([1, 2, 0, 13]);
    expect(tokenizer.isSpecial(11)).toBe(true);
    expect(tokenizer.isSpecial(12)).toBe(false);
    expect(tokenizer.encodeChat('a<pad>b</s>', { addBos: true })).toEqual([1, 7, 11, 3, 5, 2]);
    expect(tokenizer.decode([1, 9, 11, 3, 10, 2])).toBe('ab bc');
  });

  it('reads merges written as pairs the same as merges written as strings', () => {
    const pairs = LlamaTokenizer.fromTokenizerJson(smallJson((json) => (json.model.merges = json.model.merges.map((merge: string) => merge.split(' ')))));
    expect(pairs.model).toEqual(tokenizer.model);
  });

  it('reads the Metaspace pre-tokenizer spelling of the same normalization', () => {
    const metaspace = (preTokenizer: object) =>
      LlamaTokenizer.fromTokenizerJson(
        smallJson((json) => {
          json.normalizer = null;
          json.pre_tokenizer = { type: 'Metaspace', replacement: SPACE, split: false, ...preTokenizer };
        }),
      );
    expect(metaspace({ prepend_scheme: 'first' }).model).toEqual(tokenizer.model);
    expect(metaspace({ add_prefix_space: true }).model).toEqual(tokenizer.model);
    expect(metaspace({ prepend_scheme: 'never' }).encode('ab')).toEqual([8]);
  });

  it('lets tokenizer_config.json name BOS and EOS', () => {
    const renamed = LlamaTokenizer.fromTokenizerJson(smallJson(), { bosToken: '<pad>', eosToken: '<s>' });
    expect([renamed.bosId, renamed.eosId]).toEqual([11, 1]);
  });
});

describe('parseTokenizerJson on a LLaMA tokenizer.json derived from the real model', () => {
  // What transformers' LlamaConverter writes (src/tokenizer/llama-converter.ts).
  const llamaTokenizerJson = () => sentencePieceToTokenizerJson(parseSentencePieceModel(llamaModelBytes()));

  const fromModel = LlamaTokenizer.fromSentencePiece(llamaModelBytes());
  const fromJson = LlamaTokenizer.fromTokenizerJson(llamaTokenizerJson());

  it('has the same vocabulary and special ids', () => {
    expect(fromJson.vocabSize).toBe(32000);
    expect([fromJson.bosId, fromJson.eosId, fromJson.unkId]).toEqual([fromModel.bosId, fromModel.eosId, fromModel.unkId]);
    expect(fromJson.model.pieces.map(({ piece, type }) => [piece, type])).toEqual(fromModel.model.pieces.map(({ piece, type }) => [piece, type]));
  });

  it('gives the ids the sentencepiece path gives', () => {
    const texts = [
      '호기심 많은 USER와 인공지능 ASSISTANT 간의 채팅. ASSISTANT가 USER의 질문에 대해 유용하고 상세하며 정중한 답변을 제공합니다.',
      '하와이 3일 여행 계획과 예산',
      '삼국 통일 이후 신라',
      'def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n',
      '😀 🦙 𠜎𠜱 겈뷁',
      '  two  spaces  ',
      ' '.repeat(40) + 'x' + ' '.repeat(33),
    ];
    const random = seededRandom(31);
    const alphabet = [...'ab 한국어 \n\t.,!한글', '    ', '🤗', 'Hello', 'the', '▁', '中'];
    for (let sample = 0; sample < 300; sample++) {
      let text = '';
      const length = 1 + Math.floor(random() * 40);
      for (let index = 0; index < length; index++) text += alphabet[Math.floor(random() * alphabet.length)];
      texts.push(text);
    }
    for (const text of texts) expect(fromJson.encode(text), JSON.stringify(text)).toEqual(fromModel.encode(text));
  });
});

describe('parseTokenizerJson on malformed or unsupported files', () => {
  it('fails on text that is not JSON, or JSON that is not a tokenizer', () => {
    expectBadModel('{"model": ', /not valid JSON/);
    expectBadModel('[]', /no "model" object/);
    expectBadModel('{"model": 3}', /no "model" object/);
  });

  it('refuses tokenizer types other than BPE', () => {
    expectBadModel(smallJson((json) => (json.model.type = 'WordPiece')), /model type is "WordPiece"/);
    expectBadModel(smallJson((json) => (json.model.type = 'Unigram')), /model type is "Unigram"/);
  });

  it('refuses normalizations that are not LLaMA’s', () => {
    expectBadModel(smallJson((json) => json.normalizer.normalizers.push({ type: 'NFKC' })), /normalizer/);
    expectBadModel(smallJson((json) => (json.normalizer = { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: SPACE }] })), /normalizer/);
    const splitting = (json: any) => {
      json.normalizer = null;
      json.pre_tokenizer = { type: 'Metaspace', replacement: SPACE, add_prefix_space: true };
    };
    expectBadModel(smallJson(splitting), /pre_tokenizer/);
    expectBadModel(smallJson((json) => (json.pre_tokenizer = { type: 'ByteLevel' })), /pre_tokenizer/);
  });

  it('names broken vocabularies, merges and added tokens', () => {
    expectBadModel(smallJson((json) => (json.model.vocab = ['a'])), /model.vocab is not an object/);
    expectBadModel(smallJson((json) => (json.model.vocab.c = 20)), /vocabulary id 6 is missing/);
    expectBadModel(smallJson((json) => (json.model.vocab.c = 5)), /vocabulary id 5 is used twice/);
    expectBadModel(smallJson((json) => json.model.merges.push('a x')), /merge 4 .* is not a pair of vocabulary pieces/);
    expectBadModel(smallJson((json) => json.model.merges.push('c a')), /makes a piece that is not in the vocabulary/);
    expectBadModel(smallJson((json) => (json.model.merges = 'a b')), /merges is not a list/);
    expectBadModel(smallJson((json) => (json.model.unk_token = null)), /unknown token null/);
    expectBadModel(smallJson((json) => (json.added_tokens[1].content = 'a')), /added token 1 is "a" but the vocabulary has "<s>"/);
    expectBadModel(smallJson((json) => (json.added_tokens[3].content = 'b')), /piece "b" is defined twice/);
    expectBadModel(smallJson((json) => (json.added_tokens[4].id = 20)), /leaves a gap/);
    expectBadModel(smallJson((json) => (json.added_tokens[4].content = '')), /non-empty content/);
  });
});
