import { describe, expect, it } from 'vitest';
import { bf16BitsToF32, f16BitsToF32, f32ToBf16Bits, f32ToF16Bits } from './dtype';

// The reference rounds by comparing against exact midpoints: a float32 and the midpoint of two
// adjacent 16-bit values are all exact doubles, so "nearest, ties to even" needs no arithmetic
// that could itself round. Positive 16-bit patterns are ordered like their values, so the
// neighbours come from a binary search over bit patterns decoded by an independent formula.

/** IEEE half value of bits, by formula; 0x7c00 decodes to 2^16, the virtual "next after max". */
function halfValue(bits: number): number {
  const exponent = bits >>> 10;
  const mantissa = bits & 0x3ff;
  return exponent === 0 ? mantissa * 2 ** -24 : (1024 + mantissa) * 2 ** (exponent - 25);
}

/** bfloat16 value of bits, by formula; 0x7f80 decodes to 2^128. */
function bfloatValue(bits: number): number {
  const exponent = bits >>> 7;
  const mantissa = bits & 0x7f;
  return exponent === 0 ? mantissa * 2 ** -133 : (128 + mantissa) * 2 ** (exponent - 134);
}

/** Nearest-even rounding of a finite or infinite non-NaN x to bits in [0, infinityBits]. */
function referenceRound(x: number, infinityBits: number, value: (bits: number) => number): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const magnitude = Math.abs(x);
  if (magnitude >= value(infinityBits)) return sign | infinityBits;
  let low = 0;
  let high = infinityBits; // value(low) <= magnitude < value(high)
  while (high - low > 1) {
    const middle = (low + high) >>> 1;
    if (value(middle) <= magnitude) low = middle;
    else high = middle;
  }
  const midpoint = (value(low) + value(high)) / 2;
  const rounded = magnitude < midpoint ? low : magnitude > midpoint ? high : low & 1 ? high : low;
  return sign | rounded;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function fromBits(bits: number): number {
  u32[0] = bits;
  return f32[0];
}
function nextUp(value: number): number {
  f32[0] = value;
  u32[0] += value >= 0 ? 1 : -1;
  return f32[0];
}
function nextDown(value: number): number {
  f32[0] = value;
  u32[0] -= value > 0 ? 1 : -1;
  return f32[0];
}

/** Collects up to 10 failing cases so that a million-case sweep costs one assertion. */
function checkAll(cases: Iterable<number>, check: (value: number) => string | null): void {
  const failures: string[] = [];
  for (const value of cases) {
    const failure = check(value);
    if (failure !== null && failures.push(failure) >= 10) break;
  }
  expect(failures).toEqual([]);
}

function* range(start: number, end: number, step = 1): Generator<number> {
  for (let value = start; value < end; value += step) yield value;
}

const hex = (value: number) => `0x${value.toString(16)}`;

describe('float16', () => {
  it('decodes every bit pattern exactly', () => {
    checkAll(range(0, 0x10000), (bits) => {
      const actual = f16BitsToF32(bits);
      const sign = bits & 0x8000 ? -1 : 1;
      const isNaN = (bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0;
      const expected = isNaN ? NaN : (bits & 0x7c00) === 0x7c00 ? sign * Infinity : sign * halfValue(bits & 0x7fff);
      return Object.is(actual, expected) ? null : `${hex(bits)} -> ${actual}, expected ${expected}`;
    });
  });

  it('round-trips every non-NaN half', () => {
    checkAll(range(0, 0x10000), (bits) => {
      if ((bits & 0x7c00) === 0x7c00 && bits & 0x3ff) return null;
      const back = f32ToF16Bits(f16BitsToF32(bits));
      return back === bits ? null : `${hex(bits)} -> ${hex(back)}`;
    });
  });

  it('rounds exact midpoints to even and their float32 neighbours to nearest', () => {
    checkAll(range(0, 0x7c00), (bits) => {
      const midpoint = (halfValue(bits) + halfValue(bits + 1)) / 2;
      if (Math.fround(midpoint) !== midpoint) return `midpoint above ${hex(bits)} is not a float32`;
      for (const x of [midpoint, -midpoint, nextUp(midpoint), nextDown(midpoint), -nextUp(midpoint)]) {
        const expected = referenceRound(x, 0x7c00, halfValue);
        if (f32ToF16Bits(x) !== expected) return `${x} -> ${hex(f32ToF16Bits(x))}, expected ${hex(expected)}`;
      }
      return null;
    });
  });

  it('matches the reference on a sweep of float32 bit patterns', () => {
    // Every 4099th pattern: about a million values across all exponents, both signs.
    checkAll(range(0, 2 ** 32, 4099), (bits) => {
      const x = fromBits(bits);
      const actual = f32ToF16Bits(x);
      if (Number.isNaN(x)) return (actual & 0x7fff) > 0x7c00 ? null : `NaN ${hex(bits)} -> ${hex(actual)}`;
      const expected = referenceRound(x, 0x7c00, halfValue);
      return actual === expected ? null : `${hex(bits)} (${x}) -> ${hex(actual)}, expected ${hex(expected)}`;
    });
  });

  it('handles the edges: zeros, infinities, NaN, overflow and subnormals', () => {
    expect(f32ToF16Bits(0)).toBe(0x0000);
    expect(f32ToF16Bits(-0)).toBe(0x8000);
    expect(f32ToF16Bits(Infinity)).toBe(0x7c00);
    expect(f32ToF16Bits(-Infinity)).toBe(0xfc00);
    expect(f16BitsToF32(f32ToF16Bits(NaN))).toBeNaN();
    expect(f32ToF16Bits(65504)).toBe(0x7bff); // largest half
    expect(f32ToF16Bits(65519.99)).toBe(0x7bff); // below the midpoint to 2^16
    expect(f32ToF16Bits(65520)).toBe(0x7c00); // the midpoint ties to even: infinity
    expect(f32ToF16Bits(1e6)).toBe(0x7c00);
    expect(f32ToF16Bits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(f32ToF16Bits(2 ** -25)).toBe(0x0000); // half of it ties to even: zero
    expect(f32ToF16Bits(nextUp(2 ** -25))).toBe(0x0001);
    expect(f32ToF16Bits(3 * 2 ** -25)).toBe(0x0002); // 1.5 ulp ties to even: 2
    expect(f32ToF16Bits(-(2 ** -26))).toBe(0x8000);
    expect(f32ToF16Bits(fromBits(1))).toBe(0x0000); // float32 subnormal
    expect(f32ToF16Bits(2 ** -14 - 2 ** -25)).toBe(0x0400); // last subnormal rounds up into the normals
    expect(f32ToF16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie, even mantissa stays
    expect(f32ToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie, odd mantissa rounds up
  });
});

describe('bfloat16', () => {
  it('decodes every bit pattern exactly', () => {
    checkAll(range(0, 0x10000), (bits) => {
      const actual = bf16BitsToF32(bits);
      const sign = bits & 0x8000 ? -1 : 1;
      const isNaN = (bits & 0x7f80) === 0x7f80 && (bits & 0x7f) !== 0;
      const expected = isNaN ? NaN : (bits & 0x7f80) === 0x7f80 ? sign * Infinity : sign * bfloatValue(bits & 0x7fff);
      return Object.is(actual, expected) ? null : `${hex(bits)} -> ${actual}, expected ${expected}`;
    });
  });

  it('round-trips every non-NaN bfloat16', () => {
    checkAll(range(0, 0x10000), (bits) => {
      if ((bits & 0x7f80) === 0x7f80 && bits & 0x7f) return null;
      const back = f32ToBf16Bits(bf16BitsToF32(bits));
      return back === bits ? null : `${hex(bits)} -> ${hex(back)}`;
    });
  });

  it('rounds exact midpoints to even and their float32 neighbours to nearest', () => {
    checkAll(range(0, 0x7f80), (bits) => {
      const midpoint = (bfloatValue(bits) + bfloatValue(bits + 1)) / 2;
      // Between float32 max and 2^128 the midpoint is no float32; the edge test covers that end.
      if (!Number.isFinite(Math.fround(midpoint))) return null;
      for (const x of [midpoint, -midpoint, nextUp(midpoint), nextDown(midpoint)]) {
        const expected = referenceRound(x, 0x7f80, bfloatValue);
        if (f32ToBf16Bits(x) !== expected) return `${x} -> ${hex(f32ToBf16Bits(x))}, expected ${hex(expected)}`;
      }
      return null;
    });
  });

  it('matches the reference on a sweep of float32 bit patterns', () => {
    checkAll(range(0, 2 ** 32, 4099), (bits) => {
      const x = fromBits(bits);
      const actual = f32ToBf16Bits(x);
      if (Number.isNaN(x)) return (actual & 0x7fff) > 0x7f80 ? null : `NaN ${hex(bits)} -> ${hex(actual)}`;
      const expected = referenceRound(x, 0x7f80, bfloatValue);
      return actual === expected ? null : `${hex(bits)} (${x}) -> ${hex(actual)}, expected ${hex(expected)}`;
    });
  });

  it('handles the edges: zeros, infinities, NaN, overflow and subnormals', () => {
    expect(f32ToBf16Bits(0)).toBe(0x0000);
    expect(f32ToBf16Bits(-0)).toBe(0x8000);
    expect(f32ToBf16Bits(Infinity)).toBe(0x7f80);
    expect(f32ToBf16Bits(-Infinity)).toBe(0xff80);
    expect(bf16BitsToF32(f32ToBf16Bits(NaN))).toBeNaN();
    expect(f32ToBf16Bits(fromBits(0x7f7fffff))).toBe(0x7f80); // float32 max rounds to infinity
    expect(f32ToBf16Bits(fromBits(0x7f7f7fff))).toBe(0x7f7f); // just below the midpoint
    expect(f32ToBf16Bits(fromBits(0x00008000))).toBe(0x0000); // subnormal tie, even
    expect(f32ToBf16Bits(fromBits(0x00018000))).toBe(0x0002); // subnormal tie, odd rounds up
    expect(f32ToBf16Bits(fromBits(0x3f808000))).toBe(0x3f80); // 1 + half ulp: even stays
    expect(f32ToBf16Bits(fromBits(0x3f818000))).toBe(0x3f82); // odd rounds up
  });
});
