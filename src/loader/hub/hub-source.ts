/**
 * A Hugging Face hub repo as a FileSource, over plain fetch (browser and Node 20). Files are read
 * by byte range from `{endpoint}/{repo}/resolve/{revision}/{file}`; LFS files answer there with a
 * 302 to a CDN host, which fetch follows (huggingface_hub file_download.py, hf_hub_url).
 *
 * Only `Range` (CORS-safelisted for a single `bytes=a-b` range) and `Authorization` (which the hub allows
 * in its preflight) are sent: a custom header would need a preflight the CDN may refuse. A token
 * never leaves the hub's origin: on a cross-origin redirect fetch drops `Authorization` (Fetch
 * standard, "HTTP-redirect fetch"), in browsers and in Node 20's undici alike (the test "sends the
 * token to the hub but not across origins" checks Node), so the signed CDN URL goes without it.
 */

import { EngineError } from '../../errors';
import { hubDetail, integrityError, isMissingEntry, throwForStatus, type HubContext } from './hub-errors';
import {
  attempt,
  cancelled,
  contentLength,
  discardBody,
  fetchOrTransient,
  normalizeEtag,
  parseContentRange,
  streamBody,
  TransientFailure,
  withRetries,
  type RetryPolicy,
} from './hub-http';
import { ByteCoverage, type FileProgress } from './progress';
import { checkReadRange, isPlainRelativePath, MAX_TEXT_BYTES, type FileSource } from '../types';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

export interface HubSourceOptions {
  /** `org/name`. */
  repo: string;
  /** Branch, tag or commit sha; default `main`. */
  revision?: string;
  endpoint?: string;
  token?: string;
  fetch?: typeof fetch;
  /** Tries after the first for one request; default 4. */
  retries?: number;
  /** Base of the exponential backoff; default 500 ms. */
  retryDelayMs?: number;
  /** A try that receives nothing for this long is abandoned and retried; default 30 s. */
  stallTimeoutMs?: number;
  onProgress?: (progress: FileProgress) => void;
}

/** A server that ignores `Range` may send a whole small file; a whole shard would be gigabytes. */
const MAX_WHOLE_FILE_BYTES = 32 * 1024 * 1024;

export class HubSource implements FileSource, HubContext {
  readonly repo: string;
  readonly revision: string;
  readonly endpoint: string;
  readonly description: string;
  readonly hasToken: boolean;
  private readonly token: string | undefined;
  private readonly fetchImpl: typeof fetch;
  private readonly policy: RetryPolicy;
  private readonly onProgress: ((progress: FileProgress) => void) | undefined;
  private readonly sizes = new Map<string, number | null>();
  private readonly etags = new Map<string, string>();
  private readonly coverage = new Map<string, ByteCoverage>();
  private commit: string | undefined;

  constructor(readonly options: HubSourceOptions) {
    const { repo, revision = 'main', endpoint = DEFAULT_ENDPOINT } = options;
    if (!/^[\w.-]+\/[\w.-]+$/.test(repo) || repo.includes('..')) {
      throw new EngineError('bad-input', `"${repo}" is not a Hugging Face repo name; expected org/name, e.g. huggyllama/llama-7b`, {
        repo,
      });
    }
    if (revision.length === 0) throw new EngineError('bad-input', 'the revision is empty; use a branch, tag or commit, e.g. main');
    if (!/^https?:\/\/[^/]/.test(endpoint)) {
      throw new EngineError('bad-input', `hub endpoint "${endpoint}" is not an http(s) URL`, { endpoint });
    }
    this.repo = repo;
    this.revision = revision;
    this.endpoint = endpoint.replace(/\/+$/, '');
    this.token = options.token || undefined;
    this.hasToken = this.token !== undefined;
    const fetchImpl = options.fetch ?? globalThis.fetch;
    // Called unbound: a browser's fetch throws "Illegal invocation" when called as a method of another object.
    this.fetchImpl = (input, init) => fetchImpl(input, init);
    this.policy = {
      retries: options.retries ?? 4,
      retryDelayMs: options.retryDelayMs ?? 500,
      stallTimeoutMs: options.stallTimeoutMs ?? 30_000,
    };
    this.onProgress = options.onProgress;
    const where = this.endpoint === DEFAULT_ENDPOINT ? '' : ` on ${this.endpoint}`;
    this.description = `${repo}@${revision}${where}`;
  }

  /**
   * The commit the revision points at now, asked once and quickly (no retries, a 5 s stall
   * limit): offline, a cached copy must not wait for this client's retries.
   */
  async currentCommit(signal?: AbortSignal): Promise<string | undefined> {
    const quick = new HubSource({ ...this.options, retries: 0, stallTimeoutMs: 5000 });
    await quick.size('config.json', signal);
    return quick.resolvedCommit();
  }

  /**
   * GET `{endpoint}/api/models/{repo}{path}` as JSON, the routes huggingface_hub's HfApi reads
   * (model_info, list_repo_tree); null when the hub has no such route or repo (404). One retry
   * and a 10 s stall limit: the answer informs the user (sizes, license), a load never needs it.
   */
  async apiJson(path: string, signal?: AbortSignal): Promise<unknown> {
    const url = `${this.endpoint}/api/models/${this.repo}${path}`;
    const policy = { ...this.policy, retries: Math.min(this.policy.retries, 1), stallTimeoutMs: Math.min(this.policy.stallTimeoutMs, 10_000) };
    const text = await this.fetchText(url, path, policy, () => true, signal);
    try {
      return text === null ? null : (JSON.parse(text) as unknown);
    } catch {
      throw new EngineError('download-failed', `${url} did not answer JSON: is ${this.endpoint} a Hugging Face hub?`, hubDetail(this, path));
    }
  }

  /**
   * The commit the revision resolved to (`X-Repo-Commit`), once a response has carried it. Files
   * the hub serves itself (config.json, the index) carry it; a CDN answer after a redirect does not.
   */
  resolvedCommit(): string | undefined {
    return this.commit;
  }

  /**
   * The file's ETag, unquoted: `X-Linked-Etag` (the LFS sha256) where a response carries it, else
   * `ETag`. Fetch follows the LFS redirect out of sight, so for an LFS file this is the CDN's ETag
   * of the blob; for a file the hub serves itself it is the git blob sha1.
   */
  etag(file: string): string | undefined {
    return this.etags.get(file);
  }

  async size(file: string, signal?: AbortSignal): Promise<number | null> {
    const url = this.url(file);
    if (this.sizes.has(file)) return this.sizes.get(file)!;
    // A one-byte GET, not HEAD: a HEAD through the CDN redirect is not reliably CORS-readable
    // (huggingface.js fileDownloadInfo does the same), and Content-Range carries the full size.
    const size = await withRetries(this.policy, `Checking ${file} in ${this.description}`, hubDetail(this, file), signal, () =>
      attempt(signal, this.policy.stallTimeoutMs, async (attemptSignal) => {
        const response = await this.request(url, attemptSignal, 'bytes=0-0');
        discardBody(response);
        if (response.status === 404 && isMissingEntry(response)) return null;
        // An empty file cannot satisfy bytes=0-0; its 416 still says `bytes */0`.
        const range = parseContentRange(response.headers.get('Content-Range'));
        if (response.status === 416 && range?.total !== undefined) return range.total;
        throwForStatus(this, response, file);
        this.record(file, response);
        const total = response.status === 206 ? range?.total : contentLength(response);
        if (total === undefined) {
          throw new EngineError('download-failed', `the hub did not say how large ${file} is (HTTP ${response.status})`, hubDetail(this, file));
        }
        return total;
      }),
    );
    this.sizes.set(file, size);
    return size;
  }

  async read(file: string, offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    checkReadRange(file, offset, length);
    this.url(file); // validates the name before anything else
    if (signal?.aborted) throw cancelled();
    const bytes = new Uint8Array(length);
    // Bytes [offset, offset + filled) have arrived; each retry asks only for the rest.
    let filled = 0;
    let filledAtLastFailure = 0;
    const progressed = () => {
      const moved = filled > filledAtLastFailure;
      filledAtLastFailure = filled;
      return moved;
    };
    if (length === 0) return bytes;
    const what = `Downloading ${file} from ${this.description}`;
    const tryOnce = () =>
      attempt(signal, this.policy.stallTimeoutMs, async (attemptSignal, touch) => {
        if (filled === length) return; // a previous try got every byte, then failed waiting for the end
        const start = offset + filled;
        const end = offset + length - 1;
        const response = await this.request(this.url(file), attemptSignal, `bytes=${start}-${end}`);
        touch();
        throwForStatus(this, response, file, offset, length);
        this.record(file, response);
        // Body bytes [skip, skip + wanted) are the ones asked for; a 206 body holds nothing else.
        const skip = this.bodyStart(response, file, start, end, offset, length);
        const wanted = end - start + 1;
        let position = 0;
        await streamBody(response, touch, (chunk) => {
          const from = Math.max(0, skip - position);
          const to = Math.min(chunk.length, skip + wanted - position);
          position += chunk.length;
          if (response.status === 206 && to < chunk.length) {
            throw integrityError(this, file, `the hub sent more than the ${wanted} bytes asked for`, offset, length);
          }
          if (to > from) {
            bytes.set(chunk.subarray(from, to), filled);
            this.reportProgress(file, offset + filled, to - from);
            filled += to - from;
          }
          // A 206 is read to its end, so that a body longer than its range is caught.
          return response.status !== 206 && filled === length;
        });
        if (filled < length) {
          throw new TransientFailure(`the body ended after byte ${offset + filled} of [${offset}, ${offset + length})`);
        }
      });
    await withRetries(this.policy, what, hubDetail(this, file), signal, tryOnce, progressed);
    return bytes;
  }

  async readText(file: string, signal?: AbortSignal): Promise<string | null> {
    return this.fetchText(this.url(file), file, this.policy, isMissingEntry, signal);
  }

  /** A whole small text answer of at most MAX_TEXT_BYTES; null on a 404 that `missing` accepts. */
  private fetchText(url: string, file: string, policy: RetryPolicy, missing: (response: Response) => boolean, signal?: AbortSignal): Promise<string | null> {
    return withRetries(policy, `Downloading ${file} from ${this.description}`, hubDetail(this, file), signal, () =>
      attempt(signal, policy.stallTimeoutMs, async (attemptSignal, touch) => {
        const response = await this.request(url, attemptSignal);
        touch();
        if (response.status === 404 && missing(response)) {
          discardBody(response);
          return null;
        }
        throwForStatus(this, response, file);
        this.record(file, response);
        const declared = contentLength(response);
        if (response.status !== 200 || (declared ?? 0) > MAX_TEXT_BYTES) {
          discardBody(response);
          throw new EngineError('bad-model', `${file} is not a small text file (HTTP ${response.status}, ${declared} bytes)`, hubDetail(this, file));
        }
        const chunks: Uint8Array[] = [];
        let received = 0;
        await streamBody(response, touch, (chunk) => {
          chunks.push(chunk);
          received += chunk.length;
          if (received > MAX_TEXT_BYTES) throw new EngineError('bad-model', `${file} is larger than ${MAX_TEXT_BYTES} bytes`, hubDetail(this, file));
          return false;
        });
        // Only a short body is checked: a compressed response declares fewer bytes than it decodes to.
        if (declared !== undefined && received < declared) {
          throw new TransientFailure(`the body ended after ${received} of ${declared} bytes`);
        }
        const whole = new Uint8Array(received);
        chunks.reduce((at, chunk) => (whole.set(chunk, at), at + chunk.length), 0);
        return new TextDecoder().decode(whole);
      }),
    );
  }

  /**
   * `{endpoint}/{repo}/resolve/{revision}/{file}`. Once the hub has said which commit the
   * revision is, requests name the commit, so a push to `main` mid-download cannot mix two
   * snapshots (snapshot_download resolves the revision to a commit first for the same reason).
   */
  private url(file: string): string {
    if (!isPlainRelativePath(file)) {
      throw new EngineError('bad-model', `file name ${JSON.stringify(file)} is not a file in ${this.repo}`, { file });
    }
    // As hf_hub_url quotes them: the revision as one segment (`refs/pr/1` -> `refs%2Fpr%2F1`), the file per segment.
    const path = file.split('/').map(encodeURIComponent).join('/');
    return `${this.endpoint}/${this.repo}/resolve/${encodeURIComponent(this.commit ?? this.revision)}/${path}`;
  }

  private request(url: string, signal: AbortSignal, range?: string): Promise<Response> {
    const headers: Record<string, string> = {};
    if (range) headers.Range = range;
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    // Weight ranges go to the cache entry once converted: the browser's HTTP cache keeping
    // gigabytes of them too (in memory, in a private window) would only push out everything else.
    const cache: RequestCache = range ? 'no-store' : 'default';
    return fetchOrTransient(this.fetchImpl, url, { headers, signal, credentials: 'omit', redirect: 'follow', cache });
  }

  /** Where the asked-for bytes start in the body: 0 for a matching 206, `start` for a whole small file. */
  private bodyStart(response: Response, file: string, start: number, end: number, offset: number, length: number): number {
    if (response.status === 206) {
      const range = parseContentRange(response.headers.get('Content-Range'));
      if (range?.total !== undefined) this.sizes.set(file, range.total);
      if (range?.start !== start || range.end === undefined || range.end > end) {
        throw integrityError(this, file, `asked for bytes ${start}-${end}, the hub answered ${response.headers.get('Content-Range')}`, offset, length);
      }
      if (range.end < end) throw integrityError(this, file, `the file is ${range.total} bytes long`, offset, length);
      return 0;
    }
    const total = contentLength(response);
    if (response.status !== 200 || total === undefined || total > MAX_WHOLE_FILE_BYTES) {
      discardBody(response);
      throw new EngineError(
        'download-failed',
        `${this.description} answered a range request for ${file} with HTTP ${response.status} and ${total ?? 'unknown'} bytes instead of the range; a proxy may be stripping Range headers`,
        hubDetail(this, file, response.status),
      );
    }
    this.sizes.set(file, total);
    if (end >= total) throw integrityError(this, file, `the file is ${total} bytes long`, offset, length);
    return start;
  }

  /** Keeps the commit and ETag; the hub's metadata read (get_hf_file_metadata) prefers X-Linked-Etag. */
  private record(file: string, response: Response): void {
    const commit = response.headers.get('X-Repo-Commit') ?? undefined;
    if (commit && this.commit && commit !== this.commit) {
      throw new EngineError(
        'integrity-failed',
        `${this.repo}@${this.revision} moved from commit ${this.commit} to ${commit} during the download; start again`,
        hubDetail(this, file),
      );
    }
    this.commit ??= commit;
    const etag = normalizeEtag(response.headers.get('X-Linked-Etag') ?? response.headers.get('ETag'));
    if (etag) this.etags.set(file, etag);
  }

  private reportProgress(file: string, start: number, count: number): void {
    if (!this.onProgress) return;
    let coverage = this.coverage.get(file);
    if (!coverage) this.coverage.set(file, (coverage = new ByteCoverage()));
    if (coverage.add(start, start + count) === 0) return;
    this.onProgress({ file, doneBytes: coverage.covered, totalBytes: this.sizes.get(file) ?? coverage.covered });
  }
}
