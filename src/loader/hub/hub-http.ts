/**
 * The retry machinery under HubSource: one attempt is one HTTP request with its own stall timer
 * and abort link to the caller's signal; failures worth another try are TransientFailures, and
 * `withRetries` spaces the tries out with exponential backoff and jitter. Browser-safe: fetch,
 * AbortController and timers only.
 */

import { EngineError } from '../../errors';

/** A failure that another request may not repeat: a dropped connection, a 5xx, a stall. */
export class TransientFailure extends Error {
  override name = 'TransientFailure';
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The hub's status codes that mean "try again later" (huggingface_hub's http_backoff retries 429 and 5xx). */
const TRANSIENT_STATUSES = new Set([408, 429, 500, 502, 503, 504]);
/** A Retry-After longer than this is not waited out inside one read: the caller can try later. */
const MAX_RETRY_AFTER_MS = 60_000;
const MAX_BACKOFF_MS = 30_000;

export function isTransientStatus(status: number): boolean {
  return TRANSIENT_STATUSES.has(status);
}

export function transientStatus(response: Response): TransientFailure {
  const retryAfter = Number(response.headers.get('Retry-After'));
  const retryAfterMs = Number.isFinite(retryAfter) && retryAfter >= 0 ? Math.min(retryAfter * 1000, MAX_RETRY_AFTER_MS) : undefined;
  return new TransientFailure(`HTTP ${response.status} ${response.statusText}`.trim(), retryAfterMs);
}

export interface RetryPolicy {
  retries: number;
  retryDelayMs: number;
  stallTimeoutMs: number;
}

/**
 * Runs `run` until it succeeds, throws something other than a TransientFailure, or fails
 * `retries + 1` times in a row. `progressed` says whether the last failed try still moved the
 * read forward; if it did, the count starts again, so a long read over a flaky link finishes
 * as long as each connection delivers something.
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  what: string,
  detail: Record<string, string | number | boolean>,
  signal: AbortSignal | undefined,
  run: () => Promise<T>,
  progressed: () => boolean = () => false,
): Promise<T> {
  let failures = 0;
  for (;;) {
    try {
      return await run();
    } catch (error) {
      if (!(error instanceof TransientFailure)) throw error;
      failures = progressed() ? 1 : failures + 1;
      if (failures > policy.retries) {
        throw new EngineError(
          'download-failed',
          `${what} failed after ${policy.retries + 1} tries: ${error.message}. Check the network connection and try again.`,
          detail,
          { cause: error },
        );
      }
      await sleep(backoffMs(policy.retryDelayMs, failures, error.retryAfterMs), signal);
    }
  }
}

/** base * 2^(n-1), scaled by a random factor in [0.5, 1) so that parallel reads do not retry in step. */
export function backoffMs(baseMs: number, failures: number, retryAfterMs = 0): number {
  const exponential = Math.min(baseMs * 2 ** (failures - 1), MAX_BACKOFF_MS);
  return Math.max(exponential * (0.5 + Math.random() * 0.5), retryAfterMs);
}

export function cancelled(): EngineError {
  return new EngineError('cancelled', 'Download stopped.');
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(cancelled());
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelled());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

class Stalled extends Error {}

/**
 * One try: `body` gets a signal that aborts when the caller's does or when `touch` has not been
 * called for `stallTimeoutMs` (a connection that stays open but delivers nothing). The result is
 * raced against that signal, so an abort settles promptly even if a fetch implementation or body
 * stream ignores its signal.
 */
export async function attempt<T>(
  signal: AbortSignal | undefined,
  stallTimeoutMs: number,
  body: (attemptSignal: AbortSignal, touch: () => void) => Promise<T>,
): Promise<T> {
  if (signal?.aborted) throw cancelled();
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new Stalled()), stallTimeoutMs);
  };
  let stopWaiting = () => {};
  const aborted = new Promise<never>((_, reject) => {
    const onAttemptAbort = () => reject(controller.signal.reason);
    controller.signal.addEventListener('abort', onAttemptAbort, { once: true });
    stopWaiting = () => controller.signal.removeEventListener('abort', onAttemptAbort);
  });
  aborted.catch(() => {}); // the race below observes it; this keeps a late abort from being "unhandled"
  touch();
  const work = body(controller.signal, touch);
  work.catch(() => {}); // if the abort wins the race, the abandoned body's failure is expected
  try {
    return await Promise.race([work, aborted]);
  } catch (error) {
    if (signal?.aborted) throw cancelled();
    if (controller.signal.reason instanceof Stalled) {
      throw new TransientFailure(`no data for ${stallTimeoutMs / 1000} s`, undefined, { cause: error });
    }
    throw error;
  } finally {
    clearTimeout(timer);
    stopWaiting();
    signal?.removeEventListener('abort', onAbort);
    // Whatever ended this try, its connection is no longer wanted.
    if (!controller.signal.aborted) controller.abort();
  }
}

/** fetch(), with a network failure (DNS, refused, reset) turned into a TransientFailure. */
export async function fetchOrTransient(fetchImpl: typeof fetch, url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetchImpl(url, init);
  } catch (error) {
    throw new TransientFailure(`network error (${describe(error)})`, undefined, { cause: error });
  }
}

/**
 * Streams a response body to `onChunk` until it ends or `onChunk` returns true (enough).
 * A connection cut mid-body is a TransientFailure; errors thrown by `onChunk` pass through.
 */
export async function streamBody(
  response: Response,
  touch: () => void,
  onChunk: (chunk: Uint8Array) => boolean,
): Promise<void> {
  if (!response.body) return;
  const reader = response.body.getReader();
  try {
    for (;;) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch (error) {
        throw new TransientFailure(`connection lost mid-body (${describe(error)})`, undefined, { cause: error });
      }
      if (result.done) return;
      touch();
      if (onChunk(result.value)) return;
    }
  } finally {
    // Stops the transfer when we stopped early or failed; a no-op on a finished stream.
    reader.cancel().catch(() => {});
  }
}

/** Drops a body we will not read, so the connection can be reused or closed. */
export function discardBody(response: Response): void {
  response.body?.cancel().catch(() => {});
}

/** `bytes 0-99/1234` -> {start: 0, end: 99, total: 1234}; `bytes *\/1234` -> {total: 1234}. */
export function parseContentRange(header: string | null): { start?: number; end?: number; total?: number } | null {
  const match = header?.match(/^bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)$/i);
  if (!match) return null;
  const number = (text: string | undefined) => (text === undefined || text === '*' ? undefined : Number(text));
  return { start: number(match[1]), end: number(match[2]), total: number(match[3]) };
}

export function contentLength(response: Response): number | undefined {
  const header = response.headers.get('Content-Length');
  return header !== null && /^\d+$/.test(header) ? Number(header) : undefined;
}

/** `W/"abc"` -> `abc`, as huggingface_hub's `_normalize_etag` does. */
export function normalizeEtag(etag: string | null): string | undefined {
  if (!etag) return undefined;
  return etag.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
