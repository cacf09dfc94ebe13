import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_HUB_TOKEN, startFakeHub, type FakeHub } from './fake-hub';
import { HubSource } from '../hub/hub-source';

const LARGE = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7) & 0xff);
const SHA256 = createHash('sha256').update(LARGE).digest('hex');

let hub: FakeHub;
let commit: string;

beforeAll(async () => {
  hub = await startFakeHub({ lfsThresholdBytes: 1024 });
  ({ commit } = hub.addRepo('org/m', new Map([['weights.bin', LARGE], ['a.txt', new TextEncoder().encode('hello')]])));
  hub.addRepo('org/m', new Map([['a.txt', new TextEncoder().encode('pr')]]), { revision: 'refs/pr/1' });
  hub.addRepo('org/private', new Map([['a.txt', new TextEncoder().encode('secret')]]), { token: 'hf_custom' });
});
afterAll(() => hub.close());

const get = (path: string, init: RequestInit = {}) => fetch(`${hub.url}${path}`, { redirect: 'manual', ...init });

describe('startFakeHub', () => {
  it('answers CORS preflights for Range and Authorization', async () => {
    const response = await get('/org/m/resolve/main/weights.bin', { method: 'OPTIONS' });
    expect(response.status).toBe(204);
    expect(response.headers.get('Access-Control-Allow-Origin')).toBe('*');
    expect(response.headers.get('Access-Control-Allow-Headers')).toBe('Range, Authorization');
  });

  it('redirects LFS files to the CDN with the hub metadata headers, for HEAD and GET', async () => {
    for (const method of ['HEAD', 'GET']) {
      const response = await get('/org/m/resolve/main/weights.bin', { method });
      expect(response.status).toBe(302);
      expect(response.headers.get('Location')).toBe(`${hub.url}/lfs-cdn/${SHA256}`);
      expect(response.headers.get('X-Linked-Etag')).toBe(`"${SHA256}"`);
      expect(response.headers.get('X-Linked-Size')).toBe('3000');
      expect(response.headers.get('X-Repo-Commit')).toBe(commit);
      expect(response.headers.get('Access-Control-Expose-Headers')).toContain('X-Linked-Size');
    }
    const cdn = await get(`/lfs-cdn/${SHA256}`, { headers: { Range: 'bytes=-10' } });
    expect(cdn.status).toBe(206);
    expect(cdn.headers.get('Content-Range')).toBe('bytes 2990-2999/3000');
    expect(cdn.headers.get('X-Repo-Commit')).toBeNull(); // the CDN knows nothing of commits
    expect(new Uint8Array(await cdn.arrayBuffer())).toEqual(LARGE.subarray(2990));
    const past = await get(`/lfs-cdn/${SHA256}`, { headers: { Range: 'bytes=3000-' } });
    expect([past.status, past.headers.get('Content-Range')]).toEqual([416, 'bytes */3000']);
  });

  it('serves small files directly, by branch or commit, whole or by range', async () => {
    const whole = await get(`/org/m/resolve/${commit}/a.txt`);
    expect([whole.status, await whole.text(), whole.headers.get('Accept-Ranges')]).toEqual([200, 'hello', 'bytes']);
    const part = await get('/org/m/resolve/main/a.txt', { headers: { Range: 'bytes=1-' } });
    expect([part.status, await part.text()]).toEqual([206, 'ello']);
  });

  it('names missing repos, revisions and files in X-Error-Code, and wants the repo token', async () => {
    const code = async (path: string, init?: RequestInit) => {
      const response = await get(path, init);
      return [response.status, response.headers.get('X-Error-Code')];
    };
    expect(await code('/org/none/resolve/main/a.txt')).toEqual([404, 'RepoNotFound']);
    expect(await code('/org/m/resolve/v2/a.txt')).toEqual([404, 'RevisionNotFound']);
    expect(await code('/org/m/resolve/main/b.txt')).toEqual([404, 'EntryNotFound']);
    expect(await code('/org/private/resolve/main/a.txt')).toEqual([401, 'GatedRepo']);
    const withDefault = { headers: { Authorization: `Bearer ${FAKE_HUB_TOKEN}` } };
    expect(await code('/org/private/resolve/main/a.txt', withDefault)).toEqual([401, 'GatedRepo']);
    expect(await code('/org/private/resolve/main/a.txt', { headers: { Authorization: 'Bearer hf_custom' } })).toEqual([200, null]);
  });

  it('serves a revision with a slash, which HubSource encodes as one path segment', async () => {
    const source = new HubSource({ repo: 'org/m', revision: 'refs/pr/1', endpoint: hub.url });
    hub.requests.length = 0;
    expect(await source.readText('a.txt')).toBe('pr');
    expect(hub.requests[0].path).toBe('/org/m/resolve/refs/pr/1/a.txt'); // logged decoded
  });

  it('fires a fault only the given number of times', async () => {
    hub.faults.add(/a\.txt$/, { kind: 'status', status: 503, retryAfterSeconds: 2 }, 1);
    const failed = await get('/org/m/resolve/main/a.txt');
    expect([failed.status, failed.headers.get('Retry-After')]).toEqual([503, '2']);
    expect((await get('/org/m/resolve/main/a.txt')).status).toBe(200);
    hub.faults.clear();
  });

  it('answers the API as huggingface.co does: model info with the card license, and the file tree with LFS sizes', async () => {
    hub.addRepo('org/licensed', new Map([['weights.bin', LARGE], ['sub/a.txt', new TextEncoder().encode('x')]]), { license: 'llama2' });
    const info = (await (await get('/api/models/org/licensed')).json()) as Record<string, unknown>;
    expect(info).toMatchObject({ id: 'org/licensed', modelId: 'org/licensed', author: 'org', private: false, gated: false, cardData: { license: 'llama2' } });
    expect(info.sha).toMatch(/^[0-9a-f]{40}$/);
    expect(info.tags).toContain('license:llama2');
    expect(info.siblings).toEqual([{ rfilename: 'weights.bin' }, { rfilename: 'sub/a.txt' }]);
    const blobs = (await (await get('/api/models/org/licensed/revision/main?blobs=true')).json()) as { siblings: unknown[] };
    expect(blobs.siblings[0]).toMatchObject({ rfilename: 'weights.bin', size: 3000, lfs: { oid: SHA256, size: 3000, pointerSize: 134 } });

    const tree = await (await get('/api/models/org/licensed/tree/main')).json();
    expect(tree).toEqual([
      { type: 'file', oid: expect.stringMatching(/^[0-9a-f]{40}$/), size: 3000, path: 'weights.bin', lfs: { oid: SHA256, size: 3000, pointerSize: 134 } },
      { type: 'directory', oid: expect.any(String), size: 0, path: 'sub' },
    ]);
    expect(await (await get('/api/models/org/licensed/tree/main/sub')).json()).toEqual([expect.objectContaining({ type: 'file', path: 'sub/a.txt', size: 1 })]);
    expect((await get('/api/models/org/licensed/tree/main?recursive=true').then((r) => r.json())) as unknown[]).toHaveLength(3);
    expect((await get('/api/models/org/nope')).headers.get('X-Error-Code')).toBe('RepoNotFound');
    expect((await get('/api/models/org/licensed/tree/v9')).status).toBe(404);
    // What HubSource.apiJson reads: JSON, and null for a route the hub lacks.
    const source = new HubSource({ repo: 'org/licensed', endpoint: hub.url });
    expect(await source.apiJson('')).toMatchObject({ cardData: { license: 'llama2' } });
    expect(await source.apiJson('/no-such-route')).toBeNull();
  });
});

