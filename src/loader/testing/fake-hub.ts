/**
 * Node only, test support: a local stand-in for huggingface.co's file server, on 127.0.0.1 with
 * an ephemeral port. It answers `/{org}/{name}/resolve/{revision}/{file}` the way the hub does
 * (as read by huggingface_hub's get_hf_file_metadata and http_get):
 * - small files directly, with `ETag` = quoted git blob sha1 and `X-Repo-Commit`;
 * - large (LFS) files with a 302 to a CDN (here `/lfs-cdn/{sha256}` on the same server) carrying
 *   `X-Linked-Etag` (quoted sha256) and `X-Linked-Size`; the CDN answers without hub headers;
 * - byte ranges (206 + Content-Range, 416 when unsatisfiable), CORS as the hub sends it;
 * - errors with `X-Error-Code`: RepoNotFound, RevisionNotFound, EntryNotFound (404), GatedRepo (401);
 * - the JSON API's model info and file tree (fake-hub-api.ts).
 * Faults (fake-hub-faults.ts) make it fail on demand, and every request is logged.
 */

import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { apiAnswer, type ApiSnapshot } from './fake-hub-api';
import { FaultControls, sendBytes, sendFile, type RequestLog } from './fake-hub-faults';

export { FaultControls, type Fault, type RequestLog } from './fake-hub-faults';

/** The token a gated repo wants when addRepo is not given one. */
export const FAKE_HUB_TOKEN = 'hf_fake_hub_token';

export interface FakeHubOptions {
  /** Files at least this large are served as LFS, through the CDN redirect; default 64 KiB. */
  lfsThresholdBytes?: number;
}

export interface AddRepoOptions {
  /** Branch or tag name; default `main`. The commit sha is a revision too. */
  revision?: string;
  /** 40 hex digits; default derived from the repo, revision and contents. */
  commit?: string;
  /** Requires `Authorization: Bearer {token}`. */
  gated?: boolean;
  token?: string;
  /** The model card's `license` the API reports (cardData.license and a `license:` tag). */
  license?: string;
}

export interface FakeHub {
  url: string;
  close(): Promise<void>;
  addRepo(repo: string, files: Map<string, Uint8Array | DiskFile>, options?: AddRepoOptions): { commit: string };
  faults: FaultControls;
  requests: RequestLog[];
}

/** A file served from disk (a test's gigabyte shard, never read into memory): always LFS. */
export interface DiskFile {
  path: string;
  size: number;
  sha256: string;
}

interface Entry {
  bytes: Uint8Array | DiskFile;
  size: number;
  sha256: string;
  blobSha1: string;
  lfs: boolean;
}

interface Repo {
  /** By revision name and by commit sha. */
  snapshots: Map<string, { commit: string; files: Map<string, Entry> }>;
  token?: string;
  license?: string;
}

/** What huggingface.co answers on its resolve routes (headers a browser script may read included). */
const CORS_HEADERS: OutgoingHttpHeaders = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers':
    'Content-Range, Content-Length, ETag, X-Repo-Commit, X-Linked-Etag, X-Linked-Size, Accept-Ranges, X-Error-Code, X-Error-Message',
};

export async function startFakeHub(options: FakeHubOptions = {}): Promise<FakeHub> {
  const lfsThreshold = options.lfsThresholdBytes ?? 64 * 1024;
  const repos = new Map<string, Repo>();
  const blobs = new Map<string, Uint8Array | DiskFile>();
  const faults = new FaultControls();
  const requests: RequestLog[] = [];
  // Stall faults wait on these; close() ends them all so that no handler outlives the server.
  const waits = new Set<() => void>();
  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        waits.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waits.add(done);
    });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://fake-hub');
    const pathname = url.pathname;
    const log: RequestLog = {
      method: request.method ?? '',
      path: safeDecode(pathname),
      ...(request.headers.range ? { range: request.headers.range } : {}),
      status: 0,
      authorized: request.headers.authorization !== undefined,
    };
    requests.push(log);
    if (faults.offline) {
      request.socket.destroy();
      return;
    }
    const send = (status: number, headers: OutgoingHttpHeaders = {}, body = '') => {
      log.status = status;
      response.writeHead(status, { ...CORS_HEADERS, ...headers, 'Content-Length': Buffer.byteLength(body) });
      response.end(request.method === 'HEAD' ? undefined : body);
    };
    const hubError = (status: number, code: string, message: string) =>
      send(status, { 'X-Error-Code': code, 'X-Error-Message': message, 'Content-Type': 'application/json' }, JSON.stringify({ error: message }));

    if (request.method === 'OPTIONS') {
      // Authorization is not covered by `Allow-Headers: *`, so both headers are named.
      return send(204, {
        'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
        'Access-Control-Allow-Headers': 'Range, Authorization',
        'Access-Control-Max-Age': '86400',
      });
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(405);

    const fault = faults.take(log.path, log.range);
    if (fault) log.fault = fault.kind;
    if (fault?.kind === 'status') {
      const retryAfter = fault.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(fault.retryAfterSeconds) };
      return send(fault.status, retryAfter, `injected ${fault.status}`);
    }

    const parts = pathname.split('/').slice(1).map(safeDecode);
    if (parts[0] === 'api' && parts[1] === 'models' && parts.length >= 4) {
      const name = `${parts[2]}/${parts[3]}`;
      const repo = repos.get(name);
      if (!repo) return hubError(404, 'RepoNotFound', 'Repository not found');
      const answer = apiAnswer((revision) => apiSnapshot(name, repo, revision), parts.slice(4), url.searchParams);
      if (!answer) return send(404);
      return send(answer.status, { 'Content-Type': 'application/json' }, JSON.stringify(answer.body));
    }
    if (parts[0] === 'lfs-cdn' && parts.length === 2) {
      const blob = blobs.get(parts[1]);
      if (!blob) return send(404);
      const headers = { ...CORS_HEADERS, 'Accept-Ranges': 'bytes', ETag: `"${parts[1]}"`, 'Content-Type': 'application/octet-stream' };
      return blob instanceof Uint8Array ? sendBytes(request, response, blob, headers, fault, log, wait) : sendFile(request, response, blob, headers, log);
    }
    if (parts.length < 5 || parts[2] !== 'resolve') return send(404);
    const repo = repos.get(`${parts[0]}/${parts[1]}`);
    if (!repo) return hubError(404, 'RepoNotFound', 'Repository not found');
    if (repo.token !== undefined && request.headers.authorization !== `Bearer ${repo.token}`) {
      return hubError(401, 'GatedRepo', 'Access to this model is restricted: you must be authenticated.');
    }
    const snapshot = repo.snapshots.get(parts[3]);
    if (!snapshot) return hubError(404, 'RevisionNotFound', 'Invalid rev id');
    const entry = snapshot.files.get(parts.slice(4).join('/'));
    if (!entry) return hubError(404, 'EntryNotFound', 'Entry not found');

    const common = { ...CORS_HEADERS, 'X-Repo-Commit': snapshot.commit, 'Accept-Ranges': 'bytes' };
    if (entry.lfs) {
      return send(302, {
        ...common,
        Location: `${hub.url}/lfs-cdn/${entry.sha256}`,
        ETag: `"${entry.sha256}"`,
        'X-Linked-Etag': `"${entry.sha256}"`,
        'X-Linked-Size': String(entry.size),
      });
    }
    const headers = { ...common, ETag: `"${entry.blobSha1}"`, 'Content-Type': 'text/plain; charset=utf-8' };
    return sendBytes(request, response, entry.bytes as Uint8Array, headers, fault, log, wait);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => response.destroy(error as Error));
  });
  server.on('connection', (socket) => {
    if (faults.offline) socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const hub: FakeHub = {
    url: `http://127.0.0.1:${port}`,
    faults,
    requests,
    addRepo(name, files, { revision = 'main', commit, gated = false, token, license } = {}) {
      const entries = new Map<string, Entry>();
      const digest = createHash('sha1').update(`${name}@${revision}`);
      for (const [file, bytes] of files) {
        if (!(bytes instanceof Uint8Array)) {
          // A git LFS pointer is what git holds for it; its blob id is the tree's oid.
          const pointer = `version https://git-lfs.github.com/spec/v1\noid sha256:${bytes.sha256}\nsize ${bytes.size}\n`;
          const blobSha1 = createHash('sha1').update(`blob ${pointer.length}\0${pointer}`).digest('hex');
          blobs.set(bytes.sha256, bytes);
          entries.set(file, { bytes, size: bytes.size, sha256: bytes.sha256, blobSha1, lfs: true });
          digest.update(`${file}:${bytes.sha256}`);
          continue;
        }
        const sha256 = createHash('sha256').update(bytes).digest('hex');
        // A git blob id: sha1 over "blob {size}\0" and the contents.
        const blobSha1 = createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
        const lfs = bytes.length >= lfsThreshold;
        if (lfs) blobs.set(sha256, bytes);
        entries.set(file, { bytes, size: bytes.length, sha256, blobSha1, lfs });
        digest.update(`${file}:${sha256}`);
      }
      const snapshot = { commit: commit ?? digest.digest('hex'), files: entries };
      const repo: Repo = repos.get(name) ?? { snapshots: new Map() };
      repo.snapshots.set(revision, snapshot);
      repo.snapshots.set(snapshot.commit, snapshot);
      if (gated || token !== undefined) repo.token = token ?? FAKE_HUB_TOKEN;
      if (license !== undefined) repo.license = license;
      repos.set(name, repo);
      return { commit: snapshot.commit };
    },
    async close() {
      for (const done of [...waits]) done();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
  return hub;
}

function apiSnapshot(name: string, repo: Repo, revision: string): ApiSnapshot | undefined {
  const snapshot = repo.snapshots.get(revision);
  if (!snapshot) return undefined;
  const files = [...snapshot.files].map(([path, entry]) => ({ path, size: entry.size, blobSha1: entry.blobSha1, sha256: entry.sha256, lfs: entry.lfs }));
  return { repo: name, commit: snapshot.commit, files, license: repo.license, gated: repo.token !== undefined };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
