/**
 * Which turns of a conversation the model sees once the whole of it no longer fits the context.
 *
 * The system prompt always stays. When the conversation overflows, the oldest exchanges are
 * dropped in one block, down to about half of the room left after the system prompt and the
 * newest question, and that window start is remembered: the next turns keep it, so their prompt
 * begins with the same tokens as the last one and ChatSession reuses the KV cache for all of it
 * (only the new question is prefilled). The window moves again only when it overflows again.
 *
 * Why not llama.cpp's context shift (drop a block of KV rows in place and re-rotate the kept
 * keys): the kept rows of layers >= 1 were computed attending to the dropped tokens, and the
 * re-rotation rounds, so the shifted cache is not what the model computes for the kept text.
 * Dropping whole turns keeps every answer exactly the model's answer to the prompt it is given.
 *
 * The worker keeps one engine per model slot while the UI may switch conversations, and sends
 * the whole history every turn: a window is recognised from the messages themselves (the
 * dropped messages must be the conversation's first ones, word for word), and is used only
 * while the whole conversation does not fit, so it can never cut a conversation that fits.
 */
import type { ChatMessage } from './template';

/** Conversations whose window start is remembered (least recently used forgotten first). */
const REMEMBERED = 8;

export interface ContextFit {
  /** Messages (after the system prompt) left out, oldest first. */
  dropped: number;
  /** The prompt's token ids for the kept messages. */
  prompt: number[];
}

export class ContextWindows {
  /** Per conversation, the messages its window dropped; most recently used first. */
  private windows: ChatMessage[][] = [];

  /**
   * The prompt for `turns` (the conversation without its system messages; the last one is the
   * question to answer) within `budget` tokens. `promptFor(kept)` renders and tokenizes the
   * system prompt followed by `kept`. When even the question alone exceeds the budget, that
   * prompt is returned as is (the caller decides whether it still fits the context).
   */
  fit(turns: ChatMessage[], budget: number, promptFor: (kept: ChatMessage[]) => number[]): ContextFit {
    const whole = promptFor(turns);
    if (whole.length <= budget) return { dropped: 0, prompt: whole };

    const known = this.windows.find((dropped) => startsWith(turns, dropped));
    let start = known?.length ?? 0;
    let prompt = start > 0 ? promptFor(turns.slice(start)) : whole;
    if (prompt.length > budget) {
      [start, prompt] = dropBlock(turns, start, budget, promptFor);
    }
    const others = this.windows.filter((dropped) => dropped !== known);
    this.windows = start > 0 ? [turns.slice(0, start), ...others].slice(0, REMEMBERED) : others;
    return { dropped: start, prompt };
  }

  /** Forgets every conversation's window. */
  clear(): void {
    this.windows = [];
  }
}

/**
 * Drops whole exchanges after `start` until the prompt is at most halfway between the smallest
 * possible prompt (system prompt and question) and the budget: the half left over is room for
 * the next turns before the window has to move again. Binary search over the cut points
 * (a kept window starts at a user message; the prompt shrinks as the cut moves later).
 */
function dropBlock(turns: ChatMessage[], start: number, budget: number, promptFor: (kept: ChatMessage[]) => number[]): [number, number[]] {
  const last = turns.length - 1;
  const cuts: number[] = [];
  for (let i = start + 1; i < last; i++) if (turns[i].role === 'user') cuts.push(i);
  cuts.push(last);
  const alone = promptFor(turns.slice(last));
  const target = alone.length + Math.floor(Math.max(0, budget - alone.length) / 2);
  let best: [number, number[]] = [last, alone];
  let low = 0;
  let high = cuts.length - 2; // cuts[cuts.length - 1] is `last`, already computed
  while (low <= high) {
    const middle = (low + high) >> 1;
    const prompt = promptFor(turns.slice(cuts[middle]));
    if (prompt.length <= target) {
      best = [cuts[middle], prompt];
      high = middle - 1;
    } else {
      low = middle + 1;
    }
  }
  return best;
}

function startsWith(turns: ChatMessage[], prefix: ChatMessage[]): boolean {
  return (
    prefix.length > 0 &&
    prefix.length < turns.length &&
    prefix.every((message, i) => message.role === turns[i].role && message.content === turns[i].content)
  );
}
