import { describe, expect, it } from 'vitest';
import { LlamaTokenizer } from './llama-tokenizer';
import { StreamingDecoder } from './streaming-decoder';
import { llamaModelBytes, seededRandom } from './testing';

const tokenizer = LlamaTokenizer.fromSentencePiece(llamaModelBytes());
const byteId = (byte: number) => tokenizer.pieceToId(`<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`)!;

/** Pushes one id at a time, as generation does; returns every step's output and the flush. */
function stream(ids: number[]): { steps: string[]; flushed: string } {
  const decoder = new StreamingDecoder(tokenizer);
  const steps = ids.map((id) => decoder.push(id));
  return { steps, flushed: decoder.flush() };
}

const isWellFormed = (text: string) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);

describe('StreamingDecoder', () => {
  it('holds the bytes of a Korean syllable until it is complete', () => {
    // "많" is not a LLaMA piece: it arrives as <0xEB> <0xA7> <0x8E>.
    const ids = tokenizer.encode('많');
    expect(ids).toEqual([29871, byteId(0xeb), byteId(0xa7), byteId(0x8e)]);
    expect(stream(ids)).toEqual({ steps: ['', '', '', '많'], flushed: '' });
  });

  it('holds the four bytes of an emoji and emits it whole', () => {
    const ids = [1, ...tokenizer.encode('Hi 🦙!')];
    const { steps, flushed } = stream(ids);
    expect(steps).toEqual(['', 'Hi', ' ', '', '', '', '🦙', '!']);
    expect(flushed).toBe('');
  });

  it('drops the dummy-prefix space of the first piece only', () => {
    expect(stream([1, 15043, 3186, 2]).steps).toEqual(['', 'Hello', ' world', '']);
    expect(stream([29871, 29871, 15043]).steps).toEqual(['', ' ', ' Hello']);
  });

  it('never returns a broken character, and adds up to decode()', () => {
    const texts = [
      '호기심 많은 USER와 인공지능 ASSISTANT 간의 채팅. ASSISTANT가 USER의 질문에 대해 유용하고 상세하며 정중한 답변을 제공합니다.',
      '하와이 3일 여행 계획과 예산: 🏝️ 🌺 🍍 — 𠜎𠜱 겈뷁',
      '😀😃😄 👍🏽 👨‍👩‍👧',
    ];
    for (const text of texts) {
      const ids = tokenizer.encode(text, { addBos: true });
      const { steps, flushed } = stream(ids);
      for (const step of steps) {
        expect(isWellFormed(step)).toBe(true);
        expect(step).not.toContain('\uFFFD');
      }
      expect(flushed).toBe('');
      expect(steps.join('')).toBe(tokenizer.decode(ids));
      expect(steps.join('')).toBe(text);
    }
  });

  it('turns bytes that can never be a character into U+FFFD at once, and an unfinished one at flush', () => {
    expect(stream([byteId(0x80), byteId(0xff)]).steps).toEqual(['\uFFFD', '\uFFFD']);
    expect(stream([byteId(0xed), byteId(0xa0)]).steps).toEqual(['', '\uFFFD\uFFFD']); // a surrogate's encoding
    expect(stream([byteId(0xec), byteId(0x95)])).toEqual({ steps: ['', ''], flushed: '\uFFFD\uFFFD' });
    expect(stream([byteId(0xec), 15043])).toEqual({ steps: ['', '\uFFFD Hello'], flushed: '' });
  });

  it('adds up to decode() on seeded random id sequences, byte soup included', () => {
    const random = seededRandom(77);
    const common = [0, 1, 2, 13, 259, 1678, 15043, 29871];
    for (let sample = 0; sample < 300; sample++) {
      const ids = Array.from({ length: 1 + Math.floor(random() * 16) }, () => {
        const pick = random();
        if (pick < 0.6) return byteId(0x80 + Math.floor(random() * 0x80) - (random() < 0.2 ? 0x80 : 0));
        if (pick < 0.8) return common[Math.floor(random() * common.length)];
        return Math.floor(random() * tokenizer.vocabSize);
      });
      const { steps, flushed } = stream(ids);
      for (const step of steps) expect(isWellFormed(step)).toBe(true);
      expect(steps.join('') + flushed).toBe(tokenizer.decode(ids));
    }
  });
});
