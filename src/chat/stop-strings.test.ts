import { describe, expect, it } from 'vitest';
import { StopStringFilter } from './stop-strings';

function feed(stops: string[], pieces: string[]) {
  const filter = new StopStringFilter(stops);
  const shown = pieces.map((piece) => filter.push(piece));
  return { shown, text: shown.join('') + filter.flush(), stopped: filter.stopped };
}

describe('StopStringFilter', () => {
  it('cuts at a stop string split across pieces and never shows its start', () => {
    const { shown, text, stopped } = feed(['USER:'], ['안녕하세요.', ' US', 'ER', ': 다음']);
    expect(shown).toEqual(['안녕하세요.', ' ', '', '']);
    expect(text).toBe('안녕하세요. ');
    expect(stopped).toBe(true);
  });

  it('releases held text when it turns out not to be a stop string', () => {
    const { shown, text, stopped } = feed(['USER:'], ['a U', 'Sb', 'c']);
    expect(shown).toEqual(['a ', 'USb', 'c']);
    expect(text).toBe('a USbc');
    expect(stopped).toBe(false);
  });

  it('flushes a held prefix at the end', () => {
    expect(feed(['USER:'], ['done US']).text).toBe('done US');
  });

  it('takes the earliest of several stop strings', () => {
    expect(feed(['USER:', '###'], ['x ### y USER: z']).text).toBe('x ');
  });

  it('passes everything through with no stop strings', () => {
    expect(feed([], ['a', 'b']).shown).toEqual(['a', 'b']);
  });
});
