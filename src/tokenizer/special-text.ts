/**
 * Special-token texts in a prompt. A chat template is rendered to one string and then split at
 * every special-token text ("<|im_start|>", "</s>"), so anything a user typed that spells one
 * would become that control token. Before rendering, each message's text is escaped: a marker
 * (U+FDD0, a Unicode noncharacter, kept for internal use) goes inside every special-token text
 * it holds ("<\uFDD0|im_start|>"), which then no longer matches, and an encoder removes the markers
 * from the plain text between the real special tokens. A marker the user typed is doubled, so
 * it survives. The marker sits after the first character, never at an end, so a template's
 * trim() or strip() sees the message's own ends.
 */

export const ESCAPE_MARKER = '\uFDD0';

/** Literal strings found leftmost-longest (as aho-corasick's MatchKind::LeftmostLongest), by first UTF-16 unit. */
export class LiteralMatcher<T> {
  private readonly byFirst = new Map<string, { text: string; value: T }[]>();

  constructor(entries: Iterable<[string, T]>) {
    for (const [text, value] of entries) {
      if (text === '') continue;
      const list = this.byFirst.get(text[0]) ?? [];
      list.push({ text, value });
      this.byFirst.set(text[0], list);
    }
    for (const list of this.byFirst.values()) list.sort((a, b) => b.text.length - a.text.length);
  }

  get empty(): boolean {
    return this.byFirst.size === 0;
  }

  /** The leftmost match at or after `from`, the longest there; undefined when none. */
  find(text: string, from: number): { start: number; end: number; value: T } | undefined {
    for (let position = from; position < text.length; position++) {
      const candidates = this.byFirst.get(text[position]);
      if (!candidates) continue;
      const found = candidates.find(({ text: candidate }) => text.startsWith(candidate, position));
      if (found) return { start: position, end: position + found.text.length, value: found.value };
    }
    return undefined;
  }
}

/** Makes typed text safe to render into a template: no special-token text in it can match. */
export function escapeSpecialTexts(text: string, specials: LiteralMatcher<unknown>): string {
  let out = '';
  let position = 0;
  const doubled = text.replaceAll(ESCAPE_MARKER, ESCAPE_MARKER + ESCAPE_MARKER);
  for (let match = specials.find(doubled, 0); match; match = specials.find(doubled, match.end)) {
    const firstLength = doubled.codePointAt(match.start)! > 0xffff ? 2 : 1;
    out += doubled.slice(position, match.start + firstLength) + ESCAPE_MARKER;
    position = match.start + firstLength;
  }
  return out + doubled.slice(position);
}

/** The typed text back from an escaped piece: single markers go, doubled ones become one. */
export function unescapeSpecialTexts(text: string): string {
  return text.includes(ESCAPE_MARKER) ? text.replace(/\uFDD0(\uFDD0?)/g, '$1') : text;
}
