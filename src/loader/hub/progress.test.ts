import { describe, expect, it } from 'vitest';
import { ByteCoverage, DownloadProgress } from './progress';

describe('ByteCoverage', () => {
  it('counts each byte once, merging overlapping and touching ranges', () => {
    const coverage = new ByteCoverage();
    expect(coverage.add(0, 10)).toBe(10);
    expect(coverage.add(5, 15)).toBe(5);
    expect(coverage.add(20, 30)).toBe(10);
    expect(coverage.add(12, 22)).toBe(5); // only [15, 20) is new
    expect(coverage.add(0, 30)).toBe(0);
    expect(coverage.add(40, 40)).toBe(0);
    expect(coverage.add(30, 31)).toBe(1);
    expect(coverage.add(35, 36)).toBe(1);
    expect(coverage.add(32, 33)).toBe(1); // between two ranges
    expect(coverage.covered).toBe(33);
  });
});

describe('DownloadProgress', () => {
  it('sums files and estimates speed and time left over a sliding window', () => {
    let now = 0;
    const progress = new DownloadProgress({ now: () => now, windowMs: 10_000 });
    expect(progress.snapshot()).toEqual({ doneBytes: 0, totalBytes: 0, bytesPerSecond: 0, etaSeconds: undefined });
    progress.expect('a.safetensors', 600);
    progress.expect('b.safetensors', 400);
    expect(progress.snapshot()).toMatchObject({ totalBytes: 1000, etaSeconds: undefined });

    now = 1000;
    progress.update({ file: 'a.safetensors', doneBytes: 100, totalBytes: 600 });
    expect(progress.snapshot()).toEqual({ doneBytes: 100, totalBytes: 1000, bytesPerSecond: 100, etaSeconds: 9 });
    now = 2000;
    progress.update({ file: 'b.safetensors', doneBytes: 100, totalBytes: 400 });
    expect(progress.snapshot()).toEqual({ doneBytes: 200, totalBytes: 1000, bytesPerSecond: 100, etaSeconds: 8 });

    // A stall longer than the window: the speed drops to 0 and the time left is unknown.
    now = 20_000;
    expect(progress.snapshot()).toMatchObject({ doneBytes: 200, bytesPerSecond: 0, etaSeconds: undefined });

    // Then 500 bytes in the last 10 s: 50 B/s, measured over the window, not since the stall began.
    now = 21_000;
    progress.update({ file: 'a.safetensors', doneBytes: 600, totalBytes: 600 });
    expect(progress.snapshot()).toEqual({ doneBytes: 700, totalBytes: 1000, bytesPerSecond: 50, etaSeconds: 6 });

    now = 22_000;
    progress.update({ file: 'b.safetensors', doneBytes: 400, totalBytes: 400 });
    expect(progress.snapshot()).toMatchObject({ doneBytes: 1000, totalBytes: 1000, etaSeconds: 0 });
  });

  it('coalesces events that come faster than 1% of the window', () => {
    let now = 0;
    const progress = new DownloadProgress({ now: () => now, windowMs: 1000 });
    progress.expect('a', 10_000);
    for (let i = 1; i <= 1000; i++) {
      now = i; // one event per millisecond, 1 byte each
      progress.update({ file: 'a', doneBytes: i, totalBytes: 10_000 });
    }
    const { bytesPerSecond, etaSeconds } = progress.snapshot();
    // Off by at most one 10 ms coalescing bucket in 1000 ms: 1%.
    expect(Math.abs(bytesPerSecond - 1000)).toBeLessThanOrEqual(10);
    expect(Math.abs(etaSeconds! - 9)).toBeLessThanOrEqual(0.1);
  });

  it('a resumed download starts at its resumed bytes without taking them for speed', () => {
    let now = 0;
    const progress = new DownloadProgress({ now: () => now, windowMs: 10_000 });
    now = 500;
    progress.resumeAt('download', 5200, 10_000);
    expect(progress.snapshot()).toMatchObject({ doneBytes: 5200, totalBytes: 10_000, bytesPerSecond: 0 });
    now = 1000;
    progress.update({ file: 'download', doneBytes: 5300, totalBytes: 10_000 });
    // 100 bytes in the first second, not 5300: 47 s left at that speed.
    expect(progress.snapshot()).toEqual({ doneBytes: 5300, totalBytes: 10_000, bytesPerSecond: 100, etaSeconds: 47 });
  });
});
