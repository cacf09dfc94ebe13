/**
 * What a screen reader hears of a streaming answer: never each token (a reader that restarts on
 * every piece says nothing useful), but each sentence once it is complete, or the whole answer
 * once it settles. Pure functions; useAnnounceAnswer feeds their output to the live region.
 */

/** Where a sentence ends: . ! ? … before a space (not 3.14), a full-width 。！？, or a line break. */
const SENTENCE_END = /[.!?…](?=\s)|[。！？]|\n/g;

/** Past this many characters without a sentence end (a long code line, a list without stops), the text goes out at the last space. */
export const MAX_PENDING_CHARS = 240;

/**
 * How much of `text`, from `from` on, can be announced now: up to the end of its last complete
 * sentence, or everything when the answer has settled (`final`). Returns an index into `text`
 * (`from` when nothing new is complete).
 */
export function settledLength(text: string, from: number, final: boolean): number {
  if (final) return text.length;
  let end = from;
  SENTENCE_END.lastIndex = from;
  for (let match = SENTENCE_END.exec(text); match; match = SENTENCE_END.exec(text)) end = match.index + match[0].length;
  if (text.length - end > MAX_PENDING_CHARS) {
    // A token may end mid-word: cut at the last space, never inside a word.
    const space = text.lastIndexOf(' ', text.length - 1);
    end = space > end ? space + 1 : text.length;
  }
  return end;
}

/**
 * Markdown as it should be read aloud: the words, without the marks (**, `, #, list bullets,
 * link targets, table pipes, code fences). Raw HTML in an answer is text and stays text.
 */
export function speakable(markdown: string): string {
  return markdown
    .replace(/^\s*```.*$/gm, ' ') // code fences (the code inside is read as it is)
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1') // images: their alt text
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1') // links: their text
    .replace(/^\s{0,3}#{1,6}\s+/gm, '') // headings
    .replace(/^\s{0,3}>\s?/gm, '') // block quotes
    .replace(/^\s*[-*+]\s+/gm, '') // bullets (numbers stay: they are words)
    .replace(/^\s*\|?[\s:|-]+\|[\s:|-]*$/gm, ' ') // a table's |---|---| line
    .replace(/\|/g, ' ')
    .replace(/(\*\*|__|~~)(?=\S)([\s\S]*?\S)\1/g, '$2') // bold, strikethrough
    .replace(/(^|[^\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])/g, '$1$2') // *italic*, not 2 * 3 * 4
    .replace(/`+([^`]*)`+/g, '$1') // inline code
    .replace(/\*\*|__|~~|`/g, '') // marks whose other half is in the next piece
    .replace(/\s+/g, ' ')
    .trim();
}
