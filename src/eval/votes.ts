/**
 * Blind votes between two models' answers and the scoreboard they add up to (the arena of
 * Chatbot Arena, on the user's own machine). Sides are shuffled per question by a hash of the
 * question's key, so a reload shows the same sides; names are shown only after the vote.
 */
import { wilsonInterval, type Interval } from './stats';

export type Verdict = 'a' | 'b' | 'tie' | 'both-bad';

export interface VoteModel {
  repo: string;
  revision: string;
}

export interface Vote {
  id: string;
  /** What was judged: a Compare turn's id, or `${runId}:${question}` for a question-set result. */
  key: string;
  source: 'compare' | 'set';
  /** ISO time of the vote. */
  time: string;
  prompt: string;
  /** The models as shown, A then B. */
  models: [VoteModel, VoteModel];
  /** Their answers, A then B. */
  answers: [string, string];
  verdict: Verdict;
  /** Sampling and prompt settings both answers were generated with. */
  settings: Record<string, string | number | boolean | undefined>;
  /** The sampling seed of both answers. */
  seed: number;
  /** The key the A/B order was drawn from (blindOrder). */
  sidesSeed: string;
}

/** FNV-1a, 32 bits: a stable hash of a string (no security needed, only a fair coin). */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** Which of the two answers (by model side) is shown as A and which as B, for question `key`. */
export function blindOrder(key: string): [number, number] {
  // The hash's low bit alone is weak for similar keys; mix the high half in first.
  const hash = hashString(key);
  return ((hash ^ (hash >>> 16)) & 1) === 1 ? [1, 0] : [0, 1];
}

/** One model pair's record, from `first`'s side. */
export interface PairScore {
  first: string;
  second: string;
  wins: number;
  /** Ties, both-bad included (counted as ties, as Chatbot Arena does). */
  ties: number;
  /** Of the ties, the votes that said both answers were bad. */
  bothBad: number;
  losses: number;
  count: number;
  /** (wins + ties / 2) / count. */
  winRate: number;
  /** 95% Wilson interval of the win rate. */
  interval: Interval;
}

/** The scoreboard: one row per model pair (repos sorted, so A/B order does not split a pair). */
export function tally(votes: readonly Vote[]): PairScore[] {
  const rows = new Map<string, PairScore>();
  for (const vote of votes) {
    const [a, b] = vote.models.map((m) => m.repo);
    const [first, second] = a <= b ? [a, b] : [b, a];
    const key = JSON.stringify([first, second]);
    const row = rows.get(key) ?? { first, second, wins: 0, ties: 0, bothBad: 0, losses: 0, count: 0, winRate: 0, interval: { low: 0, high: 1 } };
    row.count++;
    if (vote.verdict === 'tie' || vote.verdict === 'both-bad') {
      row.ties++;
      if (vote.verdict === 'both-bad') row.bothBad++;
    } else if ((vote.verdict === 'a') === (a === first)) {
      row.wins++;
    } else {
      row.losses++;
    }
    rows.set(key, row);
  }
  return [...rows.values()].map((row) => {
    const points = row.wins + row.ties / 2;
    return { ...row, winRate: points / row.count, interval: wilsonInterval(points, row.count) };
  });
}

/** The same record from the other model's side. */
export function flip(row: PairScore): PairScore {
  return {
    ...row,
    first: row.second,
    second: row.first,
    wins: row.losses,
    losses: row.wins,
    winRate: 1 - row.winRate,
    interval: { low: 1 - row.interval.high, high: 1 - row.interval.low },
  };
}

/** A vote as one line of the export: the vote, and the winner's repo (null for a tie or both bad). */
export function voteLine(vote: Vote): Vote & { winner: string | null } {
  const winner = vote.verdict === 'a' ? vote.models[0].repo : vote.verdict === 'b' ? vote.models[1].repo : null;
  return { ...vote, winner };
}
