/**
 * Cuts a text stream at the first stop string, without ever showing part of one: text that
 * could be the start of a stop string is held back until the next piece decides it.
 */
export class StopStringFilter {
  private pending = '';
  stopped = false;

  constructor(private readonly stops: readonly string[]) {}

  /** Returns the text that is safe to show now. */
  push(text: string): string {
    if (this.stopped) return '';
    this.pending += text;
    let cut = -1;
    for (const stop of this.stops) {
      const at = this.pending.indexOf(stop);
      if (at !== -1 && (cut === -1 || at < cut)) cut = at;
    }
    if (cut !== -1) {
      this.stopped = true;
      const out = this.pending.slice(0, cut);
      this.pending = '';
      return out;
    }
    const hold = this.heldBackLength();
    const out = this.pending.slice(0, this.pending.length - hold);
    this.pending = this.pending.slice(this.pending.length - hold);
    return out;
  }

  /** The rest, at the end of generation. */
  flush(): string {
    const out = this.stopped ? '' : this.pending;
    this.pending = '';
    return out;
  }

  /** Length of the longest suffix of `pending` that is a proper prefix of some stop string. */
  private heldBackLength(): number {
    let longest = 0;
    for (const stop of this.stops) {
      for (let n = Math.min(stop.length - 1, this.pending.length); n > longest; n--) {
        if (this.pending.endsWith(stop.slice(0, n))) {
          longest = n;
          break;
        }
      }
    }
    return longest;
  }
}
