import { describe, expect, it } from 'vitest';
import { MAX_PENDING_CHARS, settledLength, speakable } from './speech';

/** What a stream of `pieces` announces, as useAnnounceAnswer does it: at each piece, then once the answer settles. */
function announce(pieces: string[]): string[] {
  const out: string[] = [];
  let text = '';
  let done = 0;
  const step = (final: boolean) => {
    const end = settledLength(text, done, final);
    if (end > done) out.push(text.slice(done, end));
    done = end;
  };
  for (const piece of pieces) {
    text += piece;
    step(false);
  }
  step(true);
  return out;
}

describe('settledLength', () => {
  it('holds text back until a sentence ends, and gives each sentence once', () => {
    const tokens = ['안녕', '하세요', '.', ' 저는', ' 모델', '입니다', '!', ' 무엇을', ' 도와', '드릴까요', '?'];
    expect(announce(tokens)).toEqual(['안녕하세요.', ' 저는 모델입니다!', ' 무엇을 도와드릴까요?']);
  });

  it('does not end a sentence at a decimal point or a version number', () => {
    expect(announce(['원주율은 3', '.14', '이고 v1', '.1', '입니다', '. 끝'])).toEqual(['원주율은 3.14이고 v1.1입니다.', ' 끝']);
  });

  it('ends a piece at a line break (list items, code lines) and at Korean full stops', () => {
    expect(announce(['- 하나\n', '- 둘\n', '끝났습니다。', '네'])).toEqual(['- 하나\n', '- 둘\n', '끝났습니다。', '네']);
  });

  it('lets a long run without a sentence end out at a space, never mid-word', () => {
    const word = '가나다라 ';
    const pieces = Array.from({ length: Math.ceil((MAX_PENDING_CHARS * 1.5) / word.length) }, () => word);
    const out = announce(pieces);
    expect(out.length).toBeGreaterThan(1);
    expect(out.join('')).toBe(pieces.join(''));
    for (const piece of out.slice(0, -1)) expect(piece.endsWith(' ')).toBe(true);
  });

  it('announces nothing while nothing is complete, then everything at the end', () => {
    expect(settledLength('생각 중', 0, false)).toBe(0);
    expect(settledLength('생각 중', 0, true)).toBe(4);
    expect(announce(['a', 'b', 'c'])).toEqual(['abc']);
  });
});

describe('speakable', () => {
  it('reads markdown as words', () => {
    expect(speakable('## 제목\n안녕하세요! 저는 **스크립트 모델**입니다. [신라](https://ko.wikipedia.org/wiki/신라)의 `통일`.')).toBe(
      '제목 안녕하세요! 저는 스크립트 모델입니다. 신라의 통일.',
    );
    expect(speakable('- 하나\n- *둘*\n1. 셋\n> 인용')).toBe('하나 둘 1. 셋 인용');
    expect(speakable('```python\ndef f(n):\n    return 2 * n * 3\n```')).toBe('def f(n): return 2 * n * 3');
    expect(speakable('| a | b |\n|---|:-:|\n| 1 | 2 |')).toBe('a b 1 2');
  });

  it('drops the half of a mark that a sentence split left behind', () => {
    expect(speakable('저는 **스크립트')).toBe('저는 스크립트');
    expect(speakable('모델**입니다.')).toBe('모델입니다.');
  });

  it('leaves raw HTML as the text it is', () => {
    expect(speakable('<img src=x onerror=alert(1)> 끝')).toBe('<img src=x onerror=alert(1)> 끝');
  });
});
