/**
 * Node only, test support: the fake hub's fault injection and its byte-range responder. A fault
 * is matched by request path and fires a given number of times, so a test can say "the CDN cuts
 * the first two connections for this blob after 3000 bytes" and then check where the client resumed.
 */

import { createReadStream } from 'node:fs';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';

export type Fault =
  /** Answer with this status (500, 503, 429...) instead of the file. */
  | { kind: 'status'; status: number; retryAfterSeconds?: number }
  /** Send the headers and `afterBytes` of the body, then destroy the socket. */
  | { kind: 'cut'; afterBytes: number }
  /**
   * Send all but `missingBytes` of the body, then end. With Content-Length the connection is
   * closed early; `chunked` omits Content-Length, so the body ends cleanly, just short.
   */
  | { kind: 'short'; missingBytes: number; chunked?: boolean }
  /** Send `extraBytes` more than the range asked for (chunked, with a correct Content-Range). */
  | { kind: 'long'; extraBytes: number }
  /** Send nothing for `ms`: before the headers, or after `afterBytes` of the body. */
  | { kind: 'stall'; ms: number; afterBytes?: number };

export interface RequestLog {
  method: string;
  /** Decoded URL path, e.g. `/org/name/resolve/main/model.safetensors` or `/lfs-cdn/{sha256}`. */
  path: string;
  range?: string;
  /** The status sent; 0 when the connection was refused (offline). */
  status: number;
  /** Whether an `Authorization` header came (its value is never logged). */
  authorized: boolean;
  /** Body bytes sent (of a file's contents), once the response is over. */
  bytes?: number;
  fault?: Fault['kind'];
}

interface Rule {
  match: string | RegExp;
  fault: Fault;
  remaining: number;
  /** Only requests asking for at least this many bytes (a Range) match. */
  minBytes: number;
}

export class FaultControls {
  /** While true, every connection is destroyed as soon as it arrives. */
  offline = false;
  private rules: Rule[] = [];

  /**
   * Applies `fault` to the next `times` GET/HEAD requests whose path contains (or matches)
   * `match`; with `minBytes`, only to ranged requests at least that long (so a test can cut a
   * tensor read while header probes of the same file pass).
   */
  add(match: string | RegExp, fault: Fault, times = Infinity, options: { minBytes?: number } = {}): void {
    this.rules.push({ match, fault, remaining: times, minBytes: options.minBytes ?? 0 });
  }

  clear(): void {
    this.rules = [];
    this.offline = false;
  }

  /** The fault for this request, if any, counting it as used. */
  take(path: string, range?: string): Fault | undefined {
    const bounds = range?.match(/^bytes=(\d+)-(\d+)$/);
    const length = bounds ? Number(bounds[2]) - Number(bounds[1]) + 1 : Infinity;
    const rule = this.rules.find(
      ({ match, remaining, minBytes }) =>
        remaining > 0 && length >= minBytes && (typeof match === 'string' ? path.includes(match) : match.test(path)),
    );
    if (!rule) return undefined;
    rule.remaining--;
    return rule.fault;
  }
}

/** RFC 9110 single byte range against a representation of `size` bytes; null means "serve it whole". */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | null {
  const match = header?.match(/^bytes=(\d*)-(\d*)$/);
  if (!match || (match[1] === '' && match[2] === '')) return null; // absent, multi-range or malformed: ignored, as servers do
  if (match[1] === '') {
    const suffix = Number(match[2]);
    return suffix === 0 || size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (match[2] !== '' && Number(match[2]) < start) return null;
  return start >= size ? 'unsatisfiable' : { start, end };
}

/**
 * Serves `bytes` with Range support, applying a body fault if one is given. `log.status` is set
 * to what was sent. Resolves when the response is over, however it ended.
 */
export async function sendBytes(
  request: IncomingMessage,
  response: ServerResponse,
  bytes: Uint8Array,
  headers: OutgoingHttpHeaders,
  fault: Fault | undefined,
  log: RequestLog,
  wait: (ms: number) => Promise<void>,
): Promise<void> {
  const range = parseRange(request.headers.range, bytes.length);
  if (range === 'unsatisfiable') return unsatisfiable(response, headers, bytes.length, log);
  let body = range ? bytes.subarray(range.start, range.end + 1) : bytes;
  const status = range ? 206 : 200;
  const out: OutgoingHttpHeaders = { ...headers, 'Content-Length': body.length };
  if (range) out['Content-Range'] = `bytes ${range.start}-${range.end}/${bytes.length}`;
  if ((fault?.kind === 'short' && fault.chunked) || fault?.kind === 'long') delete out['Content-Length'];
  if (fault?.kind === 'long') body = concat(body, new Uint8Array(fault.extraBytes).fill(0xee));
  if (fault?.kind === 'stall' && fault.afterBytes === undefined) await wait(fault.ms);
  if (response.destroyed) return;
  log.status = status;
  response.writeHead(status, out);
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  switch (fault?.kind) {
    case 'cut': {
      await write(response, body.subarray(0, fault.afterBytes));
      log.bytes = Math.min(body.length, fault.afterBytes);
      response.destroy();
      return;
    }
    case 'short': {
      log.bytes = Math.max(0, body.length - fault.missingBytes);
      await write(response, body.subarray(0, Math.max(0, body.length - fault.missingBytes)));
      if (fault.chunked) response.end();
      else response.socket?.end(); // the client sees the connection close before Content-Length
      return;
    }
    case 'stall': {
      const head = fault.afterBytes ?? 0;
      await write(response, body.subarray(0, head));
      log.bytes = head;
      await wait(fault.ms);
      if (!response.destroyed) {
        response.end(body.subarray(head));
        log.bytes = body.length;
      }
      return;
    }
    default:
      log.bytes = body.length;
      response.end(body);
  }
}

/**
 * Serves a file from disk with Range support, streamed (never read whole); body faults do not
 * apply. `log.bytes` counts what was sent, a connection the client closed early included.
 */
export async function sendFile(request: IncomingMessage, response: ServerResponse, file: { path: string; size: number }, headers: OutgoingHttpHeaders, log: RequestLog): Promise<void> {
  const range = parseRange(request.headers.range, file.size);
  if (range === 'unsatisfiable') return unsatisfiable(response, headers, file.size, log);
  const { start, end } = range ?? { start: 0, end: file.size - 1 };
  log.status = range ? 206 : 200;
  response.writeHead(log.status, { ...headers, 'Content-Length': end - start + 1, ...(range ? { 'Content-Range': `bytes ${start}-${end}/${file.size}` } : {}) });
  if (request.method === 'HEAD' || file.size === 0) {
    response.end();
    return;
  }
  log.bytes = 0;
  const stream = createReadStream(file.path, { start, end, highWaterMark: 1 << 20 });
  stream.on('data', (chunk) => (log.bytes! += chunk.length));
  await pipeline(stream, response).catch(() => {
    // The client went away mid-body (a page reload): what it got is counted.
  });
}

/** 416 for a range past the end, saying the size as servers do. */
function unsatisfiable(response: ServerResponse, headers: OutgoingHttpHeaders, size: number, log: RequestLog): void {
  log.status = 416;
  response.writeHead(416, { ...headers, 'Content-Range': `bytes */${size}`, 'Content-Length': 0 });
  response.end();
}

/** Resolves once `chunk` is handed to the kernel, so a following destroy cannot drop it. */
function write(response: ServerResponse, chunk: Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    if (chunk.length === 0 || response.destroyed) return resolve();
    response.once('close', resolve); // the client went away first
    response.write(chunk, () => resolve());
  });
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
