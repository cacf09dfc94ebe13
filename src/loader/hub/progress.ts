/**
 * Download progress. HubSource counts, per file, the distinct bytes it has received (a header
 * read twice or a resumed range is not counted twice), and DownloadProgress sums those counts
 * over files into the overall figures the UI shows: done/total, a speed and a time left.
 */

export interface FileProgress {
  file: string;
  /** Distinct bytes of `file` received so far; never decreases. */
  doneBytes: number;
  totalBytes: number;
}

/** Which byte ranges of one file have arrived: sorted, disjoint, merged [start, end) pairs. */
export class ByteCoverage {
  private ranges: [number, number][] = [];
  covered = 0;

  /** Marks [start, end) as received; returns how many of those bytes are new. */
  add(start: number, end: number): number {
    if (end <= start) return 0;
    let mergedStart = start;
    let mergedEnd = end;
    let absorbed = 0;
    let placed = false;
    const next: [number, number][] = [];
    for (const range of this.ranges) {
      if (range[1] < mergedStart) {
        next.push(range);
      } else if (range[0] > mergedEnd) {
        if (!placed) next.push([mergedStart, mergedEnd]);
        placed = true;
        next.push(range);
      } else {
        // Overlapping or touching: fold it in.
        mergedStart = Math.min(mergedStart, range[0]);
        mergedEnd = Math.max(mergedEnd, range[1]);
        absorbed += range[1] - range[0];
      }
    }
    if (!placed) next.push([mergedStart, mergedEnd]);
    this.ranges = next;
    const added = mergedEnd - mergedStart - absorbed;
    this.covered += added;
    return added;
  }
}

export interface ProgressSnapshot {
  doneBytes: number;
  totalBytes: number;
  /** Average over the last `windowMs`; 0 when nothing arrived in that time. */
  bytesPerSecond: number;
  /** Seconds left at the current speed; undefined while the speed is 0 or the total unknown. */
  etaSeconds: number | undefined;
}

interface Sample {
  timeMs: number;
  doneBytes: number;
}

/**
 * Sums per-file progress. The speed is measured over a sliding window rather than since the
 * start, so it follows a connection that speeds up or slows down, and drops to 0 during a stall
 * instead of showing the last good figure forever.
 */
export class DownloadProgress {
  private readonly files = new Map<string, { doneBytes: number; totalBytes: number }>();
  private readonly samples: Sample[];
  private readonly now: () => number;
  private readonly windowMs: number;
  private done = 0;
  private total = 0;

  constructor(options: { now?: () => number; windowMs?: number } = {}) {
    this.now = options.now ?? (() => performance.now());
    this.windowMs = options.windowMs ?? 10_000;
    this.samples = [{ timeMs: this.now(), doneBytes: 0 }];
  }

  /** Announces a file before its bytes arrive, so the overall total is right from the start. */
  expect(file: string, totalBytes: number): void {
    this.update({ file, doneBytes: this.files.get(file)?.doneBytes ?? 0, totalBytes });
  }

  has(file: string): boolean {
    return this.files.has(file);
  }

  /**
   * Starts `file` at `doneBytes` already there (a resumed download): counted in the totals, but
   * not as bytes that arrived now, so the speed and the time left stay honest.
   */
  resumeAt(file: string, doneBytes: number, totalBytes: number): void {
    const previous = this.files.get(file) ?? { doneBytes: 0, totalBytes: 0 };
    const added = doneBytes - previous.doneBytes;
    this.done += added;
    this.total += totalBytes - previous.totalBytes;
    for (const sample of this.samples) sample.doneBytes += added;
    this.files.set(file, { doneBytes, totalBytes });
  }

  /** Takes a HubSource `onProgress` event. */
  update({ file, doneBytes, totalBytes }: FileProgress): void {
    const previous = this.files.get(file) ?? { doneBytes: 0, totalBytes: 0 };
    this.done += doneBytes - previous.doneBytes;
    this.total += totalBytes - previous.totalBytes;
    this.files.set(file, { doneBytes, totalBytes });
    const now = this.now();
    // Events come per network chunk; one sample per 1% of the window is plenty for the average.
    const last = this.samples[this.samples.length - 1];
    if (this.samples.length > 1 && now - last.timeMs < this.windowMs / 100) last.doneBytes = this.done;
    else this.samples.push({ timeMs: now, doneBytes: this.done });
    this.prune(now);
  }

  snapshot(): ProgressSnapshot {
    const now = this.now();
    this.prune(now);
    // Bytes only arrive with samples, so the count at the window's start is the anchor's.
    const anchor = this.samples[0];
    const elapsedMs = now - Math.max(anchor.timeMs, now - this.windowMs);
    const bytesPerSecond = elapsedMs > 0 ? ((this.done - anchor.doneBytes) * 1000) / elapsedMs : 0;
    const left = Math.max(0, this.total - this.done);
    const etaSeconds =
      this.total === 0 ? undefined : left === 0 ? 0 : bytesPerSecond > 0 ? left / bytesPerSecond : undefined;
    return { doneBytes: this.done, totalBytes: this.total, bytesPerSecond, etaSeconds };
  }

  /** Keeps one sample at or before the window's start: the anchor the speed is measured from. */
  private prune(now: number): void {
    let drop = 0;
    while (drop + 1 < this.samples.length && this.samples[drop + 1].timeMs <= now - this.windowMs) drop++;
    if (drop > 0) this.samples.splice(0, drop);
  }
}
