/**
 * One model answers one request at a time (its KV cache holds one conversation): the rest wait
 * here, first come first served. A bounded queue refuses a request at once (429) rather than
 * letting waits grow without end; a request whose signal aborts while it waits leaves the queue.
 */
import { ApiError, abortError } from './errors';

interface Waiter {
  start(): void;
  signal?: AbortSignal;
}

export class ModelQueue {
  private running = false;
  private readonly waiting: Waiter[] = [];
  private readonly idleListeners: (() => void)[] = [];

  /** `limit`: requests that may wait behind the one running. */
  constructor(
    readonly model: string,
    private readonly limit = Infinity,
  ) {}

  get state(): { busy: boolean; queued: number } {
    return { busy: this.running, queued: this.waiting.length };
  }

  /**
   * Throws the 429 `run` would reject with, so a caller can answer before it starts streaming.
   * A request that runs at once never waits and is never refused.
   */
  checkRoom(): void {
    if (this.running && this.waiting.length >= this.limit) {
      throw new ApiError(429, `The model \`${this.model}\` is answering and ${this.waiting.length} more requests are waiting for it, the most this server queues. Try again shortly.`, 'rate_limit_error', null, 'queue_full');
    }
  }

  /** Runs `task` when every request before it has finished. */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) throw abortError();
    this.checkRoom();
    if (this.running) {
      await new Promise<void>((resolve, reject) => {
        const waiter: Waiter = { start: resolve, signal };
        const onAbort = () => {
          const index = this.waiting.indexOf(waiter);
          if (index >= 0) this.waiting.splice(index, 1);
          reject(abortError());
        };
        waiter.start = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiting.push(waiter);
      });
    }
    this.running = true;
    try {
      return await task();
    } finally {
      this.running = false;
      const next = this.waiting.shift();
      if (next) {
        this.running = true; // held for `next`, so no newcomer overtakes it
        next.start();
      } else {
        this.idleListeners.splice(0).forEach((listener) => listener());
      }
    }
  }

  /** Resolves once nothing runs or waits (serve's drain on Ctrl-C). */
  idle(): Promise<void> {
    if (!this.running && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleListeners.push(resolve));
  }
}
