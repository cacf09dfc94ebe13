import { describe, expect, it } from 'vitest';
import { ContextWindows } from './context-window';
import type { ChatMessage } from './template';

/** A stand-in tokenizer: a 10-token system prompt, then one token per character of each message. */
const SYSTEM = Array.from({ length: 10 }, (_, i) => i);
function promptFor(kept: ChatMessage[]): number[] {
  return [...SYSTEM, ...kept.flatMap((m) => [...m.content].map((c) => c.charCodeAt(0)))];
}

/** User question i and its answer: 20 and 30 characters. */
const question = (i: number): ChatMessage => ({ role: 'user', content: `q${i}`.padEnd(20, '.') });
const answer = (i: number): ChatMessage => ({ role: 'assistant', content: `a${i}`.padEnd(30, '.') });
/** The history as sent when asking question n (0-based): every earlier exchange, then question n. */
const history = (n: number, tag = ''): ChatMessage[] => [
  ...Array.from({ length: n }, (_, i) => [question(i), answer(i)]).flat().map((m) => ({ ...m, content: tag + m.content })),
  question(n),
];

const BUDGET = 300;

describe('ContextWindows', () => {
  it('keeps the whole conversation while it fits', () => {
    const windows = new ContextWindows();
    const fit = windows.fit(history(4), BUDGET, promptFor);
    expect(fit.dropped).toBe(0);
    expect(fit.prompt).toEqual(promptFor(history(4)));
  });

  it('drops a block down to about half the room, keeps it on the next turns, and moves it only when full again', () => {
    const windows = new ContextWindows();
    const starts: number[] = [];
    let previous: number[] = [];
    let reused = 0;
    for (let n = 0; n < 40; n++) {
      const turns = history(n);
      const fit = windows.fit(turns, BUDGET, promptFor);
      expect(fit.prompt.length).toBeLessThanOrEqual(BUDGET);
      expect(fit.prompt).toEqual(promptFor(turns.slice(fit.dropped)));
      if (fit.dropped > 0) expect(turns[fit.dropped].role).toBe('user');
      // Same window as the previous turn: the previous prompt is a prefix of this one (the cache holds it).
      if (fit.dropped === starts.at(-1)) {
        expect(fit.prompt.slice(0, previous.length)).toEqual(previous);
        reused++;
      } else if (n > 0) {
        // A move: down to at most half-way between the smallest prompt (system + question: 30) and the budget.
        expect(fit.prompt.length).toBeLessThanOrEqual(30 + (BUDGET - 30) / 2);
      }
      starts.push(fit.dropped);
      previous = fit.prompt;
    }
    expect(starts.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    const moves = starts.filter((start, i) => i > 0 && start !== starts[i - 1]).length;
    expect(moves).toBeGreaterThanOrEqual(4);
    expect(moves).toBeLessThanOrEqual(40 / 2.5); // each move frees room for a few turns
    expect(reused).toBe(40 - 1 - moves);
  });

  it('recognises each conversation by its dropped messages, and never cuts one that fits', () => {
    const windows = new ContextWindows();
    const first = windows.fit(history(12), BUDGET, promptFor).dropped;
    const other = windows.fit(history(12, 'B'), BUDGET, promptFor).dropped;
    expect(first).toBeGreaterThan(0);
    expect(other).toBe(first); // same shape, its own window computed from scratch

    // Back to the first: its window still starts where it did, one exchange later.
    expect(windows.fit(history(13), BUDGET, promptFor).dropped).toBe(first);
    // A conversation that begins with the same messages but fits is sent whole.
    expect(windows.fit(history(3), BUDGET, promptFor).dropped).toBe(0);
    // An edit inside the dropped messages makes it another conversation: a fresh block from the start.
    const edited = history(13);
    edited[0] = { role: 'user', content: 'edited'.padEnd(20, '.') };
    const fresh = windows.fit(edited, BUDGET, promptFor);
    expect(fresh.prompt.length).toBeLessThanOrEqual(30 + (BUDGET - 30) / 2);
  });

  it('forgets the least recently used conversation past eight', () => {
    const windows = new ContextWindows();
    const start = windows.fit(history(12, 'x0'), BUDGET, promptFor).dropped;
    // Moving this conversation's window on makes the fit of its next turn a tighter block.
    const later = windows.fit(history(14, 'x0'), BUDGET, promptFor).dropped;
    expect(later).toBe(start);
    for (let c = 1; c <= 8; c++) windows.fit(history(12, `x${c}`), BUDGET, promptFor);
    // Forgotten: recomputed from the start, which cuts further than the remembered window.
    expect(windows.fit(history(14, 'x0'), BUDGET, promptFor).dropped).toBeGreaterThan(start);
  });

  it('returns the question alone when nothing else fits, however long', () => {
    const windows = new ContextWindows();
    const turns = [...history(2).slice(0, -1), { role: 'user', content: 'x'.repeat(500) } as ChatMessage];
    const fit = windows.fit(turns, BUDGET, promptFor);
    expect(fit.dropped).toBe(turns.length - 1);
    expect(fit.prompt.length).toBe(510);
    expect(windows.fit([turns.at(-1)!], BUDGET, promptFor)).toEqual({ dropped: 0, prompt: promptFor([turns.at(-1)!]) });
  });
});
