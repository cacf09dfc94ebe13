import { describe, expect, it } from 'vitest';
import { perplexity, wilsonInterval } from './stats';

describe('wilsonInterval', () => {
  // Known values: statsmodels' proportion_confint(count, nobs, alpha=0.05, method='wilson').
  it.each([
    [8, 10, 0.4902, 0.9433],
    [5, 10, 0.2366, 0.7634],
    [81, 263, 0.2553, 0.3662],
    [1, 1, 0.2065, 1],
    [0, 3, 0, 0.5615],
  ])('%d of %d: [%f, %f]', (successes, n, low, high) => {
    const interval = wilsonInterval(successes, n);
    expect(interval.low).toBeCloseTo(low, 4);
    expect(interval.high).toBeCloseTo(high, 4);
  });

  it('is [0, 1] with no votes, symmetric around a half, and narrows as votes come in', () => {
    expect(wilsonInterval(0, 0)).toEqual({ low: 0, high: 1 });
    const half = wilsonInterval(1.5, 3); // a win, a loss and a tie (counted half)
    expect(half.low + half.high).toBeCloseTo(1, 12);
    expect(wilsonInterval(50, 100).high - wilsonInterval(50, 100).low).toBeLessThan(wilsonInterval(5, 10).high - wilsonInterval(5, 10).low);
    expect(() => wilsonInterval(4, 3)).toThrow(RangeError);
  });
});

describe('perplexity', () => {
  it('is exp of minus the mean log-probability', () => {
    expect(perplexity([Math.log(0.5), Math.log(0.5)])).toBeCloseTo(2, 12);
    expect(perplexity(Float32Array.of(-1, -2, -3))).toBeCloseTo(Math.exp(2), 6);
    expect(perplexity([])).toBeNaN();
  });
});
