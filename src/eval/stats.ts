/** The statistics behind the bench's numbers: perplexity of a scored text, Wilson intervals of win rates. */

/** exp(-mean ln p) over the scored tokens; NaN when there are none. */
export function perplexity(logprobs: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < logprobs.length; i++) sum += logprobs[i];
  return logprobs.length === 0 ? Number.NaN : Math.exp(-sum / logprobs.length);
}

/** z for a two-sided 95% interval: the 0.975 quantile of the standard normal. */
export const Z_95 = 1.959963984540054;

export interface Interval {
  low: number;
  high: number;
}

/**
 * The Wilson score interval (Wilson 1927; Agresti & Coull 1998) for a proportion of `successes`
 * out of `n`: unlike the normal approximation it stays inside [0, 1] and is sensible for the
 * handful of votes a person casts (1 win of 1 gives [0.21, 1], not [1, 1]). `successes` may be
 * fractional (a tie counts half). n = 0 says nothing: [0, 1].
 */
export function wilsonInterval(successes: number, n: number, z = Z_95): Interval {
  if (!(n > 0)) return { low: 0, high: 1 };
  if (!(successes >= 0 && successes <= n)) throw new RangeError(`successes ${successes} outside [0, ${n}]`);
  const p = successes / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = ((z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n)));
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}
