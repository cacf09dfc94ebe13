import { describe, expect, it } from 'vitest';
import { blindOrder, flip, tally, voteLine, type Verdict, type Vote } from './votes';

const vote = (a: string, b: string, verdict: Verdict, key = `${a}-${b}-${verdict}`): Vote => ({
  id: key,
  key,
  source: 'compare',
  time: '2025-01-01T00:00:00.000Z',
  prompt: '질문',
  models: [
    { repo: a, revision: 'main' },
    { repo: b, revision: 'main' },
  ],
  answers: ['답 A', '답 B'],
  verdict,
  settings: { temperature: 0.7 },
  seed: 0,
  sidesSeed: key,
});

describe('blindOrder', () => {
  it('is the same for the same question and about even over many', () => {
    expect(blindOrder('turn-1')).toEqual(blindOrder('turn-1'));
    const keys = Array.from({ length: 2000 }, (_, i) => `m5x2k-${i}-ab${i % 7}`);
    const swapped = keys.filter((key) => blindOrder(key)[0] === 1).length;
    // Binomial(2000, 0.5) has a standard deviation of 22: 900..1100 is 4.5 of them.
    expect(swapped).toBeGreaterThan(900);
    expect(swapped).toBeLessThan(1100);
    for (const key of keys.slice(0, 50)) expect([...blindOrder(key)].sort()).toEqual([0, 1]);
  });
});

describe('tally', () => {
  it('counts one row per model pair whichever side each model was shown on', () => {
    const votes = [vote('x/vicuna', 'y/llama', 'a'), vote('y/llama', 'x/vicuna', 'b'), vote('y/llama', 'x/vicuna', 'a'), vote('x/vicuna', 'y/llama', 'tie'), vote('y/llama', 'x/vicuna', 'both-bad'), vote('x/vicuna', 'z/other', 'b')];
    const rows = tally(votes);
    expect(rows).toHaveLength(2);
    const [main, other] = rows;
    expect(main).toMatchObject({ first: 'x/vicuna', second: 'y/llama', wins: 2, losses: 1, ties: 2, bothBad: 1, count: 5 });
    expect(main.winRate).toBeCloseTo(3 / 5, 12);
    expect(main.interval.low).toBeLessThan(0.6);
    expect(main.interval.high).toBeGreaterThan(0.6);
    expect(other).toMatchObject({ first: 'x/vicuna', second: 'z/other', wins: 0, losses: 1, count: 1, winRate: 0 });
    const flipped = flip(main);
    expect(flipped).toMatchObject({ first: 'y/llama', second: 'x/vicuna', wins: 1, losses: 2, ties: 2 });
    expect(flipped.winRate).toBeCloseTo(2 / 5, 12);
    expect(flipped.interval.low).toBeCloseTo(1 - main.interval.high, 12);
  });

  it('exports a vote with its winner', () => {
    expect(voteLine(vote('p/one', 'q/two', 'b')).winner).toBe('q/two');
    expect(voteLine(vote('p/one', 'q/two', 'both-bad')).winner).toBeNull();
  });
});
