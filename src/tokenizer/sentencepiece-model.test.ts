import { describe, expect, it } from 'vitest';
import { isEngineError } from '../errors';
import { parseSentencePieceModel, type SentencePieceModel } from './sentencepiece-model';
import { encodeModelProto, llamaModelBytes, seededRandom, smallModel } from './testing';

/** Parsing either succeeds or fails with bad-model: never another error, never a hang. */
function parseOutcome(bytes: Uint8Array): SentencePieceModel | 'bad-model' {
  try {
    return parseSentencePieceModel(bytes);
  } catch (error) {
    if (isEngineError(error, 'bad-model')) return 'bad-model';
    throw error;
  }
}

function expectBadModel(bytes: Uint8Array, message?: RegExp): void {
  let caught: unknown;
  try {
    parseSentencePieceModel(bytes);
  } catch (error) {
    caught = error;
  }
  expect(isEngineError(caught, 'bad-model'), String(caught)).toBe(true);
  if (message) expect((caught as Error).message).toMatch(message);
}

describe('parseSentencePieceModel on the real LLaMA tokenizer.model', () => {
  const model = parseSentencePieceModel(llamaModelBytes());

  it('reads the pieces, their scores and types', () => {
    expect(model.pieces).toHaveLength(32000);
    expect(model.pieces.slice(0, 4)).toEqual([
      { piece: '<unk>', score: 0, type: 'unknown' },
      { piece: '<s>', score: 0, type: 'control' },
      { piece: '</s>', score: 0, type: 'control' },
      { piece: '<0x00>', score: 0, type: 'byte' },
    ]);
    expect(model.pieces[258]).toEqual({ piece: '<0xFF>', score: 0, type: 'byte' });
    expect(model.pieces[259]).toEqual({ piece: '\u2581\u2581', score: -1e9, type: 'normal' });
    expect(model.pieces[260]).toEqual({ piece: '\u2581t', score: -1, type: 'normal' });
    expect(model.pieces[15043].piece).toBe('\u2581Hello');
    expect(model.pieces[31999]).toEqual({ piece: '给', score: -31740, type: 'normal' });
    const counts: Record<string, number> = {};
    for (const { type } of model.pieces) counts[type] = (counts[type] ?? 0) + 1;
    expect(counts).toEqual({ unknown: 1, control: 2, byte: 256, normal: 31741 });
  });

  it('keeps a piece that is a byte-order mark (a default TextDecoder would drop it)', () => {
    expect(model.pieces[30143].piece).toBe('\uFEFF');
  });

  it('reads the trainer and normalizer settings', () => {
    expect({ ...model, pieces: undefined }).toEqual({
      pieces: undefined,
      byteFallback: true,
      unkId: 0,
      bosId: 1,
      eosId: 2,
      padId: -1,
      unkSurface: ' \u2047 ',
      normalizer: { name: 'identity', addDummyPrefix: true, removeExtraWhitespaces: false, escapeWhitespaces: true },
    });
  });
});

describe('parseSentencePieceModel on handmade models', () => {
  it('round-trips what the test writer encodes, negative pad id included', () => {
    const model = smallModel(['\u2581', 'a', ['<sep>', 'user-defined'], ['zz', 'unused']], { byteFallback: true, removeExtraWhitespaces: true });
    expect(parseSentencePieceModel(encodeModelProto(model))).toEqual(model);
  });

  it('refuses a model that is not BPE', () => {
    expectBadModel(encodeModelProto(smallModel(['a']), { modelType: 1 }), /not BPE/);
  });

  it('refuses a normalizer other than identity', () => {
    expectBadModel(encodeModelProto(smallModel(['a']), { normalizerName: 'nmt_nfkc' }), /normalizer "nmt_nfkc"/);
  });

  it('refuses models sentencepiece itself would refuse', () => {
    const duplicate = smallModel(['a', 'a']);
    expectBadModel(encodeModelProto(duplicate), /defined twice/);
    const missingBytes = smallModel(['a'], { byteFallback: true });
    missingBytes.pieces.splice(10, 1);
    expectBadModel(encodeModelProto(missingBytes), /255 of the 256/);
    const unexpectedByte = smallModel([['<0x41>', 'byte']]);
    expectBadModel(encodeModelProto(unexpectedByte), /byte_fallback is false/);
    const noUnknown = smallModel(['a']);
    noUnknown.pieces[0].type = 'control';
    expectBadModel(encodeModelProto(noUnknown), /exactly one unknown/);
    const bosOutside = { ...smallModel(['a']), bosId: 99 };
    expectBadModel(encodeModelProto(bosOutside), /bos_id 99/);
  });
});

describe('parseSentencePieceModel on malformed bytes', () => {
  const real = llamaModelBytes();

  it('fails on empty input and on plain text', () => {
    expectBadModel(new Uint8Array(0), /no pieces/);
    expectBadModel(new TextEncoder().encode('{"model": {"type": "BPE"}}'));
  });

  it('fails on every kind of truncation of the real model', () => {
    // Inside the first piece's tag, length, string and score; deep inside; just short of the end.
    for (const length of [1, 2, 3, 5, 9, 12, 1000, 250_001, real.length - 1]) {
      expectBadModel(real.subarray(0, length));
    }
  });

  it('names wire-level faults', () => {
    expectBadModel(new Uint8Array([0x20]), /ends inside a varint/); // field 4, a varint with no value
    expectBadModel(new Uint8Array([0x0a, 0x05, 0x0a]), /field of 5 bytes where only 1 remain/);
    expectBadModel(new Uint8Array([0x00]), /numbered 0/);
    expectBadModel(new Uint8Array([0x0b]), /wire type 3/); // a proto2 group
    expectBadModel(new Uint8Array([0x08, 0x01]), /wire type 0, expected 2/); // pieces as a varint
    expectBadModel(new Uint8Array([0x0a, 0x02, 0x0a, 0x01]), /pieces\[0\] has a field of 1 bytes/); // piece string cut short
    expectBadModel(new Uint8Array([0x0a, 0x04, 0x0a, 0x02, 0xc3, 0x28]), /not UTF-8/);
    expectBadModel(new Uint8Array([0x20, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), /longer than 10 bytes/);
  });

  it('fails cleanly on seeded random garbage', () => {
    const random = seededRandom(1234);
    for (let sample = 0; sample < 300; sample++) {
      const bytes = Uint8Array.from({ length: 1 + Math.floor(random() * 300) }, () => Math.floor(random() * 256));
      expect(parseOutcome(bytes)).toBe('bad-model');
    }
  });

  it('either parses or fails with bad-model when bytes of the real model are corrupted', () => {
    const random = seededRandom(99);
    for (let sample = 0; sample < 12; sample++) {
      const bytes = real.slice();
      for (let flip = 0; flip < 4; flip++) bytes[Math.floor(random() * 4000)] = Math.floor(random() * 256);
      const outcome = parseOutcome(bytes);
      if (outcome !== 'bad-model') expect(outcome.pieces.length).toBeGreaterThan(0);
    }
  });
});
