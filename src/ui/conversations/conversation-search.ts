/**
 * Search over a tab's conversations, titles and every message, Korean included. Each word of
 * the query must appear somewhere in the conversation as a substring (신라 finds 통일신라),
 * compared in Unicode NFC (files and some IMEs give Hangul as decomposed jamo) and lower case.
 * A conversation's text is prepared once per version of its thread (a WeakMap on the object).
 */
import type { ConversationMeta } from './conversation-store';
import type { Thread } from './threads';

export interface Snippet {
  before: string;
  match: string;
  after: string;
}

export interface SearchHit {
  meta: ConversationMeta;
  /** Where a word matched a message (none when only the title matched). */
  snippet?: Snippet;
}

interface Searchable {
  parts: string[];
  normalized: string[];
  joined: string;
}

const SNIPPET_RADIUS = 30;
const prepared = new WeakMap<Thread, Searchable>();

export function normalizeForSearch(text: string): string {
  return text.normalize('NFC').toLowerCase();
}

export function queryTerms(query: string): string[] {
  return normalizeForSearch(query).split(/\s+/).filter(Boolean);
}

function searchable(thread: Thread): Searchable {
  let found = prepared.get(thread);
  if (!found) {
    const parts = [...thread.messages.map((m) => m.content), ...thread.turns.flatMap((turn) => [turn.prompt, ...turn.answers.map((a) => a.content)])];
    const normalized = parts.map(normalizeForSearch);
    found = { parts, normalized, joined: normalized.join('\n') };
    prepared.set(thread, found);
  }
  return found;
}

/**
 * The conversations of `metas` (kept in their order) that hold every word of `query`;
 * `threadOf` gives the messages of those read so far (the others are matched by title).
 */
export function searchConversations(metas: ConversationMeta[], query: string, threadOf: (id: string) => Thread | undefined): SearchHit[] {
  const terms = queryTerms(query);
  if (terms.length === 0) return metas.map((meta) => ({ meta }));
  const hits: SearchHit[] = [];
  for (const meta of metas) {
    const title = normalizeForSearch(meta.title);
    const thread = threadOf(meta.id);
    const text = thread && searchable(thread);
    if (!terms.every((term) => title.includes(term) || text?.joined.includes(term))) continue;
    hits.push({ meta, snippet: text && snippetOf(text, terms) });
  }
  return hits;
}

function snippetOf(text: Searchable, terms: string[]): Snippet | undefined {
  for (const term of terms) {
    for (let i = 0; i < text.parts.length; i++) {
      const at = text.normalized[i].indexOf(term);
      if (at < 0) continue;
      // NFC and lower case seldom change a length; where they did, offsets hold in the normalized text only.
      const source = text.normalized[i].length === text.parts[i].length ? text.parts[i] : text.normalized[i];
      const start = Math.max(0, at - SNIPPET_RADIUS);
      const end = Math.min(source.length, at + term.length + SNIPPET_RADIUS);
      const flat = (part: string) => part.replace(/\s+/g, ' ');
      return {
        before: `${start > 0 ? '…' : ''}${flat(source.slice(start, at))}`,
        match: source.slice(at, at + term.length),
        after: `${flat(source.slice(at + term.length, end))}${end < source.length ? '…' : ''}`,
      };
    }
  }
  return undefined;
}
