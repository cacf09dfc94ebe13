import { describe, expect, it } from 'vitest';
import { charsPerSecond, formatCharsPerSecond, formatDateTime, formatShortDate, visibleCharacters } from './format';

describe('characters per second', () => {
  it('counts what a reader sees: a Hangul syllable is one character, composed or not; whitespace is none', () => {
    expect(visibleCharacters('안녕하세요')).toBe(5);
    expect(visibleCharacters('안녕하세요'.normalize('NFD'))).toBe(5);
    expect(visibleCharacters(' 통일 신라\n\n9주 ')).toBe(6);
    expect(visibleCharacters('👍🏽 ok')).toBe(3);
  });

  it('is tok/s times the characters each token gave', () => {
    // 23 tokens for 10 syllables (~2.3 tokens each) at 23 tok/s: 10 characters a second.
    expect(charsPerSecond('가나다라마 바사아자차', { newTokens: 23, decodeTokensPerSecond: 23 })).toBeCloseTo(10);
    expect(formatCharsPerSecond(10)).toBe('초당 10.0자');
    expect(formatCharsPerSecond(charsPerSecond('', { newTokens: 0, decodeTokensPerSecond: 0 }))).toBe('—');
  });
});

describe('list dates', () => {
  it('are as short as the day allows: time today, day this year, full date before', () => {
    const now = new Date(2025, 4, 20, 15, 0).getTime();
    const format = (options: Intl.DateTimeFormatOptions, date: Date) => new Intl.DateTimeFormat('ko-KR', options).format(date);
    const morning = new Date(2025, 4, 20, 9, 5);
    expect(formatShortDate(morning.getTime(), now)).toBe(format({ timeStyle: 'short' }, morning));
    expect(formatShortDate(new Date(2025, 0, 2, 9, 5).getTime(), now)).toBe('1월 2일');
    expect(formatShortDate(new Date(2024, 0, 2).getTime(), now)).toBe('2024. 1. 2.');
    expect(formatDateTime(new Date(2024, 0, 2, 3, 4).getTime())).toBe('2024-01-02 03:04');
  });
});
