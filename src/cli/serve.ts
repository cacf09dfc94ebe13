/**
 * `serve --model A [--model B ...] [--host 127.0.0.1] [--port 8080] [--dtype q4|f16|f32]
 * [--api-key KEY] [--context-length N] [--max-queue N] [--max-body-bytes N]`: an
 * OpenAI-compatible HTTP server (serve-http.ts) on the engine the app and the library run
 * (api/engine-api.ts over the ChatEngines in this process). Every model loads first, with
 * progress on stderr; then stdout gets one line, `listening on http://HOST:PORT`. Ctrl-C (or
 * SIGTERM) stops taking requests, lets those in progress finish, and exits; a second Ctrl-C
 * stops them at once.
 */
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { LocalBackend } from '../api/local-backend';
import { EngineApi, type ServedModel } from '../api/engine-api';
import type { ChatEngine } from '../chat/engine';
import { EngineError } from '../errors';
import { dtypeFlag, MODEL_FLAGS, numberFlag, parseFlags, type Flags } from './args';
import { loadModel } from './load-model';
import { createApiServer, type ApiServer } from './serve-http';

export const SERVE_DEFAULTS = { host: '127.0.0.1', port: 8080, maxQueue: 16, maxBodyBytes: 1 << 20, contextLength: 2048 };

export interface ServeOptions {
  host: string;
  port: number;
  apiKey?: string;
  maxQueue: number;
  maxBodyBytes: number;
  log?(line: string): void;
}

export interface RunningServer extends ApiServer {
  /** http://HOST:PORT, with the port bound (an ephemeral one for --port 0). */
  url: string;
  api: EngineApi;
}

/** The id a `--model` is served under: the hub repo id, or a folder's name. */
export function modelId(model: string, isFolder: boolean): string {
  return isFolder ? path.basename(path.resolve(model)) : model;
}

/** Serves loaded engines (by id) over HTTP until drained. */
export async function serveEngines(engines: Map<string, ChatEngine>, options: ServeOptions): Promise<RunningServer> {
  const loadedAt = Math.floor(Date.now() / 1000);
  const served: ServedModel[] = [...engines.keys()].map((id) => ({ id, created: loadedAt }));
  const api = new EngineApi(new LocalBackend(engines), { models: () => served, maxQueue: options.maxQueue });
  const server = createApiServer({
    api,
    apiKey: options.apiKey,
    maxBodyBytes: options.maxBodyBytes,
    log: options.log,
    models: () => [...engines].map(([id, engine]) => ({ id, state: 'ready' as const, dtype: engine.model.dtype, contextLength: engine.session.contextLength })),
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new EngineError('bad-input', `Cannot listen on ${options.host}:${options.port}: ${error.code === 'EADDRINUSE' ? 'the port is in use' : error.message}`)),
    );
    server.server.listen(options.port, options.host, resolve);
  });
  const { port } = server.server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return { ...server, url: `http://${host}:${port}`, api };
}

function serveOptions(flags: Flags): ServeOptions & { contextLength: number } {
  const apiKey = flags['api-key'];
  if (apiKey !== undefined && (typeof apiKey !== 'string' || apiKey === '')) throw new EngineError('bad-input', '--api-key needs a key');
  return {
    host: typeof flags.host === 'string' && flags.host !== '' ? flags.host : SERVE_DEFAULTS.host,
    port: numberFlag(flags, 'port', SERVE_DEFAULTS.port, (n) => Number.isInteger(n) && n >= 0 && n <= 65535, 'a port number (0: any free port)'),
    apiKey: apiKey as string | undefined,
    maxQueue: numberFlag(flags, 'max-queue', SERVE_DEFAULTS.maxQueue, (n) => Number.isInteger(n) && n >= 0, 'a non-negative integer'),
    maxBodyBytes: numberFlag(flags, 'max-body-bytes', SERVE_DEFAULTS.maxBodyBytes, (n) => Number.isInteger(n) && n > 0, 'a positive integer'),
    contextLength: numberFlag(flags, 'context-length', SERVE_DEFAULTS.contextLength, (n) => Number.isInteger(n) && n > 1, 'an integer > 1'),
    log: (line) => process.stderr.write(`${line}\n`),
  };
}

export async function serve(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, {
    ...MODEL_FLAGS,
    model: 'strings',
    host: 'string',
    port: 'string',
    dtype: 'string',
    'api-key': 'string',
    'context-length': 'string',
    'max-queue': 'string',
    'max-body-bytes': 'string',
  });
  const models = (flags.model as string[] | undefined) ?? [];
  if (models.length === 0) throw new EngineError('bad-input', 'serve needs at least one --model (a folder or org/name)');
  const dtype = dtypeFlag(flags, 'q4');
  const options = serveOptions(flags);

  // Ctrl-C while loading stops the load; while serving, drains (twice: stops the answers too).
  const loading = new AbortController();
  let server: RunningServer | undefined;
  let interrupts = 0;
  let drained: (() => void) | undefined;
  const onSignal = () => {
    interrupts++;
    if (!server) return loading.abort(new EngineError('cancelled', 'Interrupted while loading'));
    if (interrupts === 1) {
      process.stderr.write('draining: finishing the answers in progress (Ctrl-C again to stop them now)\n');
      void server.drain().then(() => drained?.());
    } else {
      server.abortAll();
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const engines = new Map<string, ChatEngine>();
  const closers: (() => Promise<void>)[] = [];
  try {
    for (const [index, model] of models.entries()) {
      process.stderr.write(`loading ${model} (${index + 1} of ${models.length})\n`);
      const opened = await loadModel({ ...flags, model }, { dtype, contextLength: options.contextLength, signal: loading.signal }, { progressLines: true });
      closers.push(opened.close);
      const id = modelId(model, opened.fromFolder);
      if (engines.has(id)) {
        opened.engine.dispose();
        throw new EngineError('bad-input', `Two --model flags serve the same id ${id}: give each model once (folders are named by their last path part)`);
      }
      engines.set(id, opened.engine);
      process.stderr.write(`ready: ${id} (${opened.engine.model.dtype}, context ${opened.engine.session.contextLength})\n`);
    }
    const finished = new Promise<void>((resolve) => (drained = resolve));
    server = await serveEngines(engines, options);
    process.stdout.write(`listening on ${server.url}\n`);
    await finished;
    process.stderr.write('stopped\n');
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    engines.forEach((engine) => engine.dispose());
    for (const close of closers) await close();
  }
}
