/**
 * `serve`'s HTTP side (node:http): OpenAI's routes over the shared EngineApi, with its errors as
 * `{"error": {message, type, param, code}}` and its statuses, SSE streams (`data: {...}` lines
 * and `data: [DONE]`), an optional API key, CORS for pages in a browser, a body limit checked
 * before the body is read whole, and a client that hangs up stopping its answer at once.
 *
 *   GET  /health                 up, with each model's state and queue
 *   GET  /v1/models[/ID]         the loaded models
 *   POST /v1/chat/completions    chat (SSE with stream: true)
 *   POST /v1/completions         raw prompts (SSE with stream: true)
 * (The same routes without the /v1 prefix too, for clients whose base URL leaves it out.)
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { EngineApi } from '../api/engine-api';
import { ApiError, isAbort, toApiError } from '../api/errors';
import type { ChatCompletion, Completion, ErrorBody } from '../api/types';

export interface ModelHealth {
  id: string;
  state: 'loading' | 'ready' | 'failed';
  dtype?: string;
  contextLength?: number;
}

export interface ApiServerOptions {
  api: EngineApi;
  /** Requests to /v1 must carry `Authorization: Bearer KEY`. */
  apiKey?: string;
  /** Larger request bodies get a 413 (by Content-Length before reading, else as they arrive). */
  maxBodyBytes: number;
  models(): ModelHealth[];
  /** One line per answered request (stderr). */
  log?(line: string): void;
}

export interface ApiServer {
  server: Server;
  /** Stops taking requests (new ones get 503), waits for those in progress, then closes. */
  drain(): Promise<void>;
  /** Stops every answer in progress now (a second Ctrl-C). */
  abortAll(): void;
}

const ROUTES = new Map<string, string[]>([
  ['/health', ['GET']],
  ['/v1/models', ['GET']],
  ['/v1/chat/completions', ['POST']],
  ['/v1/completions', ['POST']],
]);

function httpError(status: number, message: string, code: string | null, type: ApiError['type'] = 'invalid_request_error'): ApiError {
  return new ApiError(status, message, type, null, code);
}

/** The route a path names: /v1 added where a client left it out; a model id may hold slashes. */
function routeOf(pathname: string): { route: string; modelId?: string } {
  const path = pathname.startsWith('/v1/') || pathname === '/health' ? pathname : `/v1${pathname}`;
  if (path.startsWith('/v1/models/')) return { route: '/v1/models', modelId: decodeURIComponent(path.slice('/v1/models/'.length)) };
  return { route: path.replace(/\/+$/, '') };
}

function corsHeaders(request: IncomingMessage): Record<string, string> {
  const origin = request.headers.origin;
  return {
    'Access-Control-Allow-Origin': origin ?? '*',
    ...(origin ? { Vary: 'Origin' } : {}),
    'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
    // The official client sends its own x-stainless-* headers: allow what the preflight asks for.
    'Access-Control-Allow-Headers': request.headers['access-control-request-headers'] ?? 'Authorization, Content-Type',
    'Access-Control-Max-Age': '86400',
  };
}

function sendJson(request: IncomingMessage, response: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  if (response.headersSent) return;
  const text = JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...corsHeaders(request), ...extra });
  response.end(text);
}

function sendError(request: IncomingMessage, response: ServerResponse, error: ApiError, extra: Record<string, string> = {}): void {
  const retry: Record<string, string> = error.status === 429 ? { 'Retry-After': '1' } : {};
  sendJson(request, response, error.status, error.toJSON() satisfies ErrorBody, { ...retry, ...extra });
}

function keyMatches(header: string | undefined, key: string): boolean {
  const given = Buffer.from(header?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim() ?? '');
  const expected = Buffer.from(key);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The body as JSON, refused with 413 as soon as it is known to pass `limit`: from Content-Length
 * before a byte is read, else when the bytes received pass it (then nothing more is kept).
 */
function readJson(request: IncomingMessage, limit: number): Promise<unknown> {
  const tooLarge = () => httpError(413, `The request body is larger than this server's limit of ${limit} bytes (--max-body-bytes).`, 'request_too_large');
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    request.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > limit) {
        refused = true;
        chunks.length = 0;
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    request.on('error', reject);
    request.on('end', () => {
      if (refused) return;
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
      } catch {
        reject(httpError(400, 'The request body is not valid UTF-8.', 'invalid_json'));
        return;
      }
      try {
        resolve(JSON.parse(text));
      } catch (error) {
        reject(httpError(400, `We could not parse the JSON body of your request: ${(error as Error).message}. Send a JSON object with Content-Type: application/json.`, 'invalid_json'));
      }
    });
  });
}

/**
 * A refused body may still be arriving: read and drop it, so a client still sending gets the
 * answer rather than a broken pipe; one that sends more than 16 times the limit is cut off.
 */
function discardRest(request: IncomingMessage, limit: number): void {
  let dropped = 0;
  request.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > 16 * limit) request.destroy();
  });
  request.resume();
}

export function createApiServer(options: ApiServerOptions): ApiServer {
  const { api } = options;
  let draining = false;
  const inProgress = new Set<AbortController>();
  const settled = new Set<() => void>();

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const started = performance.now();
    const url = new URL(request.url ?? '/', 'http://server');
    const method = request.method ?? 'GET';
    const { route, modelId } = routeOf(url.pathname);
    const log = (status: number, what = '') => options.log?.(`${method} ${url.pathname} ${status}${what} ${Math.round(performance.now() - started)} ms`);

    if (method === 'OPTIONS') {
      response.writeHead(204, corsHeaders(request)).end();
      return;
    }
    const methods = ROUTES.get(route);
    if (!methods) {
      sendError(request, response, httpError(404, `Unknown route ${method} ${url.pathname}: this server has GET /v1/models, POST /v1/chat/completions, POST /v1/completions and GET /health.`, 'unknown_url'));
      log(404);
      return;
    }
    if (!methods.includes(method)) {
      sendError(request, response, httpError(405, `${url.pathname} takes ${methods.join(', ')}, not ${method}.`, 'method_not_allowed'), { Allow: methods.join(', ') });
      log(405);
      return;
    }
    if (route === '/health') {
      const models = options.models().map((model) => ({ ...model, ...(model.state === 'ready' ? api.queueState(model.id) : {}) }));
      sendJson(request, response, draining ? 503 : 200, { status: draining ? 'draining' : models.every((m) => m.state === 'ready') ? 'ok' : 'loading', models });
      return;
    }
    if (options.apiKey !== undefined && !keyMatches(request.headers.authorization, options.apiKey)) {
      sendError(request, response, httpError(401, 'Incorrect API key provided: send it as `Authorization: Bearer KEY` (the key given to serve --api-key).', 'invalid_api_key'));
      log(401);
      return;
    }
    if (draining) {
      sendError(request, response, httpError(503, 'The server is shutting down.', 'shutting_down', 'server_error'), { Connection: 'close' });
      log(503);
      return;
    }
    if (route === '/v1/models') {
      try {
        sendJson(request, response, 200, modelId === undefined ? await api.models.list() : await api.models.retrieve(modelId));
      } catch (error) {
        sendError(request, response, toApiError(error));
      }
      return;
    }

    let body: unknown;
    try {
      body = await readJson(request, options.maxBodyBytes);
    } catch (error) {
      const apiError = toApiError(error);
      if (apiError.status === 413) discardRest(request, options.maxBodyBytes);
      sendError(request, response, apiError);
      log(apiError.status);
      return;
    }

    // The client hanging up (its socket closing before the answer is written) stops the answer.
    const controller = new AbortController();
    inProgress.add(controller);
    response.on('close', () => {
      if (!response.writableFinished) controller.abort();
    });
    try {
      const isChat = route === '/v1/chat/completions';
      const result = await (isChat ? api.chat.completions.create(body as never, { signal: controller.signal }) : api.completions.create(body as never, { signal: controller.signal }));
      if (Symbol.asyncIterator in result) {
        await streamSse(request, response, result as AsyncIterable<ChatCompletion | Completion>);
        log(200, ' (stream)');
      } else {
        sendJson(request, response, 200, result);
        log(200, ` ${(result as ChatCompletion).usage?.completion_tokens ?? 0} tokens`);
      }
    } catch (error) {
      if (controller.signal.aborted && isAbort(error)) {
        log(499, ' (client closed the connection)');
        return;
      }
      const apiError = toApiError(error);
      sendError(request, response, apiError);
      log(apiError.status);
    } finally {
      inProgress.delete(controller);
      if (inProgress.size === 0) settled.forEach((notify) => notify());
    }
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      // A bug in the handler: answered as a 500 rather than leaving the client waiting.
      sendError(request, response, toApiError(error));
    });
  });

  return {
    server,
    async drain() {
      draining = true;
      server.close();
      server.closeIdleConnections();
      await api.idle();
      while (inProgress.size > 0) await new Promise<void>((resolve) => settled.add(resolve));
      server.closeAllConnections();
    },
    abortAll() {
      inProgress.forEach((controller) => controller.abort());
    },
  };
}

/**
 * Writes a stream as server-sent events. The first chunk is awaited before the headers, so an
 * error before any output (a prompt past the context) still gets its status; later errors
 * arrive as one `data: {"error": ...}` event, as OpenAI's do, and the stream ends without [DONE].
 */
async function streamSse(request: IncomingMessage, response: ServerResponse, stream: AsyncIterable<ChatCompletion | Completion>): Promise<void> {
  const iterator = stream[Symbol.asyncIterator]();
  const first = await iterator.next();
  response.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no', ...corsHeaders(request) });
  response.socket?.setNoDelay(true);
  const write = (data: string) => response.write(`data: ${data}\n\n`);
  try {
    for (let item = first; !item.done; item = await iterator.next()) write(JSON.stringify(item.value));
    write('[DONE]');
  } catch (error) {
    if (response.destroyed) throw error;
    write(JSON.stringify(toApiError(error).toJSON()));
  } finally {
    await iterator.return?.();
    response.end();
  }
}
