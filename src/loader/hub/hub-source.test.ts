import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EngineError, type ErrorCode } from '../../errors';
import { encodeSafetensors } from '../formats/safetensors';
import { encodeTorchZip } from '../testing/torch-zip-writer';
import { randomTensor, seededRandom } from '../testing/test-support';
import { discoverWeights } from '../weights-index';
import { FAKE_HUB_TOKEN, startFakeHub, type FakeHub } from '../testing/fake-hub';
import { hubSourceFromEnvironment } from './hub-env';
import { HubSource, type HubSourceOptions } from './hub-source';
import { DownloadProgress, type FileProgress } from './progress';

const random = seededRandom(7);
const BIG = Uint8Array.from({ length: 20_000 }, () => (random() * 256) | 0);
const CONFIG = '{"hidden_size": 4096, "model_type": "llama"}';
const LONG_JSON = JSON.stringify({ vocab: Array.from({ length: 300 }, (_, i) => `토큰${i}`) }); // > LFS threshold
const encode = (text: string) => new TextEncoder().encode(text);
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

let hub: FakeHub;
let commit: string;

beforeAll(async () => {
  hub = await startFakeHub({ lfsThresholdBytes: 1024 });
  ({ commit } = hub.addRepo(
    'org/model',
    new Map([
      ['config.json', encode(CONFIG)],
      ['big.bin', BIG],
      ['empty.txt', new Uint8Array(0)],
      ['tokenizer.json', encode(LONG_JSON)],
      ['sub dir/a+b.json', encode('{"ok": true}')],
    ]),
  ));
  hub.addRepo('org/gated', new Map([['config.json', encode(CONFIG)], ['big.bin', BIG]]), { gated: true });
});
afterAll(() => hub.close());
beforeEach(() => {
  hub.faults.clear();
  hub.requests.length = 0;
});

function source(options: Partial<HubSourceOptions> = {}): HubSource {
  return new HubSource({ repo: 'org/model', endpoint: hub.url, retryDelayMs: 1, stallTimeoutMs: 5_000, ...options });
}

async function failure(action: () => Promise<unknown>): Promise<EngineError> {
  let caught: unknown;
  try {
    await action();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected an EngineError').toBeInstanceOf(EngineError);
  return caught as EngineError;
}

async function expectCode(action: () => Promise<unknown>, code: ErrorCode, message: RegExp): Promise<EngineError> {
  const error = await failure(action);
  expect(error.code, error.message).toBe(code);
  expect(error.message).toMatch(message);
  return error;
}

/** The Range headers the CDN was asked for, in order. */
const cdnRanges = () => hub.requests.filter((r) => r.path.startsWith('/lfs-cdn/')).map((r) => r.range);

describe('HubSource reads', () => {
  it('reads a byte range of an LFS file through the CDN redirect', async () => {
    expect(await source().read('big.bin', 100, 5000)).toEqual(BIG.subarray(100, 5100));
    expect(hub.requests).toEqual([
      { method: 'GET', path: '/org/model/resolve/main/big.bin', range: 'bytes=100-5099', status: 302, authorized: false },
      { method: 'GET', path: `/lfs-cdn/${sha256(BIG)}`, range: 'bytes=100-5099', status: 206, authorized: false, bytes: 5000 },
    ]);
  });

  it('reads ranges of small files directly, and a zero-length range without a request', async () => {
    const hubSource = source();
    expect(new TextDecoder().decode(await hubSource.read('config.json', 1, 13))).toBe(CONFIG.slice(1, 14));
    expect(await hubSource.read('big.bin', 5, 0)).toEqual(new Uint8Array(0));
    expect(hub.requests.map((r) => r.status)).toEqual([206]);
  });

  it('reports sizes, ETags and the commit, then names the commit in its URLs', async () => {
    const hubSource = source();
    expect(await hubSource.size('config.json')).toBe(CONFIG.length);
    expect(hubSource.resolvedCommit()).toBe(commit);
    const blob = encode(CONFIG);
    const gitSha1 = createHash('sha1').update(`blob ${blob.length}\0`).update(blob).digest('hex');
    expect(hubSource.etag('config.json')).toBe(gitSha1);
    expect(await hubSource.size('big.bin')).toBe(BIG.length);
    expect(hubSource.etag('big.bin')).toBe(sha256(BIG));
    expect(await hubSource.size('empty.txt')).toBe(0);
    expect(await hubSource.size('missing.bin')).toBeNull();
    expect(hub.requests[0].path).toBe('/org/model/resolve/main/config.json');
    expect(hub.requests[1].path).toBe(`/org/model/resolve/${commit}/big.bin`);
    const count = hub.requests.length;
    expect(await hubSource.size('big.bin')).toBe(BIG.length); // cached
    expect(await hubSource.size('missing.bin')).toBeNull();
    expect(hub.requests).toHaveLength(count);
  });

  it('asks for the current commit once, without the retries a download gets', async () => {
    expect(await source().currentCommit()).toBe(commit);
    expect(hub.requests.map((r) => r.path)).toEqual(['/org/model/resolve/main/config.json']);
    hub.requests.length = 0;
    hub.faults.add('config.json', { kind: 'status', status: 503 });
    await expectCode(() => source({ retries: 4 }).currentCommit(), 'download-failed', /HTTP 503/);
    expect(hub.requests).toHaveLength(1);
  });

  it('reads text files, through the redirect too, with path segments encoded', async () => {
    const hubSource = source();
    expect(await hubSource.readText('config.json')).toBe(CONFIG);
    expect(await hubSource.readText('tokenizer.json')).toBe(LONG_JSON);
    expect(await hubSource.readText('sub dir/a+b.json')).toBe('{"ok": true}');
    expect(await hubSource.readText('missing.json')).toBeNull();
    expect(hub.requests.map((r) => r.status)).toEqual([200, 302, 200, 200, 404]);
  });
});

describe('HubSource errors', () => {
  it('asks for a token for a gated repo, and reads it with one', async () => {
    const gated = (token?: string) => source({ repo: 'org/gated', token });
    await expectCode(() => gated().readText('config.json'), 'unauthorized', /gated or private.*access token in settings/);
    await expectCode(() => gated().read('config.json', 0, 4), 'unauthorized', /needs an access token/);
    const refused = await expectCode(() => gated('hf_wrong').size('config.json'), 'unauthorized', /refused the access token/);
    expect(refused.message).not.toContain('hf_wrong');
    expect(await gated(FAKE_HUB_TOKEN).readText('config.json')).toBe(CONFIG);
    expect(hub.requests.map((r) => [r.status, r.authorized])).toEqual([
      [401, false], [401, false], [401, true], [200, true],
    ]);
  });

  it('sends the token to the hub but not across origins to the CDN', async () => {
    // The hub listens on 127.0.0.1 and redirects there; reached as localhost, that is another origin.
    const endpoint = hub.url.replace('127.0.0.1', 'localhost');
    const hubSource = source({ repo: 'org/gated', endpoint, token: FAKE_HUB_TOKEN });
    expect(await hubSource.read('big.bin', 10, 20)).toEqual(BIG.subarray(10, 30));
    expect(hub.requests.map((r) => [r.status, r.authorized])).toEqual([[302, true], [206, false]]);
  });

  it('says which repo, revision or file is missing', async () => {
    await expectCode(() => source({ repo: 'org/nope' }).readText('config.json'), 'not-found', /repo org\/nope does not exist/);
    await expectCode(() => source({ repo: 'org/nope' }).size('model.safetensors'), 'not-found', /repo org\/nope/);
    await expectCode(() => source({ revision: 'v9' }).readText('config.json'), 'not-found', /revision v9 does not exist in org\/model/);
    await expectCode(() => source().read('model.bin', 0, 8), 'not-found', /model\.bin is not in org\/model at revision main/);
  });

  it('refuses bad repo names, endpoints and file names', async () => {
    for (const repo of ['noslash', 'a/b/c', '../x', 'a/..', 'a/b c', '']) {
      expect(() => source({ repo }), repo).toThrow(expect.objectContaining({ code: 'bad-input' }));
    }
    expect(() => source({ endpoint: 'ftp://example.com' })).toThrow(expect.objectContaining({ code: 'bad-input' }));
    for (const file of ['../x', 'a//b', '', 'a\\b']) {
      await expect(source().readText(file), file).rejects.toMatchObject({ code: 'bad-model' });
    }
  });

  it('retries 5xx and 429 answers, then reads', async () => {
    hub.faults.add('resolve/main/big.bin', { kind: 'status', status: 500 }, 2);
    hub.faults.add('/lfs-cdn/', { kind: 'status', status: 503 }, 1);
    hub.faults.add('/lfs-cdn/', { kind: 'status', status: 429, retryAfterSeconds: 0 }, 1);
    expect(await source().read('big.bin', 0, 1000)).toEqual(BIG.subarray(0, 1000));
    expect(hub.requests.map((r) => r.status)).toEqual([500, 500, 302, 503, 302, 429, 302, 206]);
  });

  it('gives up with download-failed after its retries, without hanging', async () => {
    hub.faults.add('big.bin', { kind: 'status', status: 500 });
    const started = performance.now();
    const error = await expectCode(() => source({ retries: 2 }).read('big.bin', 0, 10), 'download-failed', /failed after 3 tries: HTTP 500/);
    expect(error.detail).toMatchObject({ repo: 'org/model', file: 'big.bin' });
    expect(hub.requests).toHaveLength(3);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('fails with integrity-failed on 416, a range past the end, and a body longer than asked', async () => {
    await expectCode(() => source().read('big.bin', 20_000, 10), 'integrity-failed', /HTTP 416/);
    await expectCode(() => source().read('big.bin', 19_990, 20), 'integrity-failed', /20000 bytes long.*\[19990, 20010\)/);
    hub.faults.add('/lfs-cdn/', { kind: 'long', extraBytes: 7 });
    await expectCode(() => source().read('big.bin', 0, 100), 'integrity-failed', /more than the 100 bytes/);
  });

  it('fails with download-failed when the hub is unreachable, and recovers when it is back', async () => {
    hub.faults.offline = true;
    await expectCode(() => source({ retries: 2 }).read('big.bin', 0, 10), 'download-failed', /network error/);
    await expectCode(() => source({ retries: 1 }).readText('config.json'), 'download-failed', /failed after 2 tries/);
    hub.faults.offline = false;
    expect(await source().readText('config.json')).toBe(CONFIG);
  });
});

describe('HubSource resumes', () => {
  it('resumes a cut connection from the first missing byte', async () => {
    hub.faults.add('/lfs-cdn/', { kind: 'cut', afterBytes: 3000 }, 1);
    expect(await source().read('big.bin', 100, 10_000)).toEqual(BIG.subarray(100, 10_100));
    expect(cdnRanges()).toEqual(['bytes=100-10099', 'bytes=3100-10099']);
  });

  it('keeps going while every connection delivers something, beyond the retry count', async () => {
    hub.faults.add('/lfs-cdn/', { kind: 'cut', afterBytes: 1000 });
    expect(await source({ retries: 1 }).read('big.bin', 0, 4500)).toEqual(BIG.subarray(0, 4500));
    expect(cdnRanges()).toEqual(['bytes=0-4499', 'bytes=1000-4499', 'bytes=2000-4499', 'bytes=3000-4499', 'bytes=4000-4499']);
  });

  it('resumes a body that ends short, with or without Content-Length', async () => {
    hub.faults.add('/lfs-cdn/', { kind: 'short', missingBytes: 1234 }, 1);
    hub.faults.add('/lfs-cdn/', { kind: 'short', missingBytes: 500, chunked: true }, 1);
    expect(await source().read('big.bin', 0, 5000)).toEqual(BIG.subarray(0, 5000));
    expect(cdnRanges()).toEqual(['bytes=0-4999', 'bytes=3766-4999', 'bytes=4500-4999']);
  });

  it('abandons a stalled connection after the stall timeout and resumes', async () => {
    hub.faults.add('/lfs-cdn/', { kind: 'stall', ms: 10_000, afterBytes: 2000 }, 1);
    hub.faults.add('/lfs-cdn/', { kind: 'stall', ms: 10_000 }, 1); // before any header
    const started = performance.now();
    expect(await source({ stallTimeoutMs: 200 }).read('big.bin', 100, 8000)).toEqual(BIG.subarray(100, 8100));
    expect(performance.now() - started).toBeLessThan(5_000); // each stall alone is 10 s
    expect(cdnRanges()).toEqual(['bytes=100-8099', 'bytes=2100-8099', 'bytes=2100-8099']);
  });
});

describe('HubSource cancellation', () => {
  const abortAfter = (ms: number) => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), ms);
    return controller.signal;
  };

  it('rejects promptly with cancelled when aborted mid-body', async () => {
    hub.faults.add('/lfs-cdn/', { kind: 'stall', ms: 10_000, afterBytes: 1000 });
    const started = performance.now();
    await expectCode(() => source().read('big.bin', 0, 5000, abortAfter(100)), 'cancelled', /stopped/i);
    expect(performance.now() - started).toBeLessThan(2_000); // not a speed check: the stall alone is 10 s
  });

  it('rejects promptly when aborted during a backoff, before a request, or with a fetch that ignores it', async () => {
    hub.faults.add('big.bin', { kind: 'status', status: 503 });
    const started = performance.now();
    await expectCode(() => source({ retryDelayMs: 60_000 }).size('big.bin', abortAfter(100)), 'cancelled', /stopped/i);
    const deaf: typeof fetch = () => new Promise(() => {});
    await expectCode(() => source({ fetch: deaf }).readText('config.json', abortAfter(100)), 'cancelled', /stopped/i);
    expect(performance.now() - started).toBeLessThan(3_000); // the backoff alone is at least 30 s
    const aborted = new AbortController();
    aborted.abort();
    await expectCode(() => source().read('big.bin', 0, 10, aborted.signal), 'cancelled', /stopped/i);
  });
});

describe('HubSource progress', () => {
  it('counts distinct bytes per file, monotonically, up to the file size', async () => {
    const events: FileProgress[] = [];
    const overall = new DownloadProgress();
    const hubSource = source({
      onProgress: (progress) => {
        events.push(progress);
        overall.update(progress);
      },
    });
    hub.faults.add('/lfs-cdn/', { kind: 'cut', afterBytes: 1500 }, 2);
    await hubSource.read('big.bin', 0, 100); // a header, read again below
    for (let offset = 0; offset < BIG.length; offset += 6000) {
      await hubSource.read('big.bin', offset, Math.min(6000, BIG.length - offset));
    }
    const done = events.map((event) => event.doneBytes);
    expect(done).toEqual([...done].sort((a, b) => a - b));
    expect(new Set(done).size).toBe(done.length);
    expect(events.every((event) => event.file === 'big.bin' && event.totalBytes === BIG.length)).toBe(true);
    expect(done.at(-1)).toBe(BIG.length);
    expect(overall.snapshot()).toMatchObject({ doneBytes: BIG.length, totalBytes: BIG.length, etaSeconds: 0 });
  });
});

describe('HubSource with the loader', () => {
  const tensors = [
    randomTensor('model.embed_tokens.weight', 'F16', [64, 16], 1),
    randomTensor('model.layers.0.self_attn.q_proj.weight', 'BF16', [16, 16], 2),
    randomTensor('model.norm.weight', 'F32', [16], 3),
    randomTensor('lm_head.weight', 'F16', [64, 16], 4),
  ];

  async function expectTensors(hubSource: HubSource, format: string) {
    const found = await discoverWeights(hubSource);
    expect(found.format).toBe(format);
    expect(found.tensors.map((t) => t.name).sort()).toEqual(tensors.map((t) => t.name).sort());
    for (const record of found.tensors) {
      const expected = tensors.find((t) => t.name === record.name)!;
      expect(await hubSource.read(record.file, record.offset, record.byteLength)).toEqual(expected.data);
    }
  }

  it('discovers sharded safetensors served through the CDN redirect', async () => {
    const shards = [tensors.slice(0, 2), tensors.slice(2)];
    const files = new Map<string, Uint8Array>();
    const weightMap: Record<string, string> = {};
    shards.forEach((group, i) => {
      const name = `model-0000${i + 1}-of-00002.safetensors`;
      files.set(name, encodeSafetensors(group));
      for (const tensor of group) weightMap[tensor.name] = name;
    });
    files.set('model.safetensors.index.json', encode(JSON.stringify({ metadata: {}, weight_map: weightMap })));
    hub.addRepo('org/sharded', files);
    await expectTensors(source({ repo: 'org/sharded' }), 'safetensors');
    expect(hub.requests.some((r) => r.path.startsWith('/lfs-cdn/') && r.status === 206)).toBe(true);
  });

  it('discovers a torch checkpoint in a gated repo, with the token from the environment', async () => {
    hub.addRepo('org/torch', new Map([['pytorch_model.bin', encodeTorchZip(tensors)]]), { gated: true });
    const env = { HF_ENDPOINT: hub.url, HF_TOKEN: FAKE_HUB_TOKEN };
    await expectTensors(hubSourceFromEnvironment('org/torch', { retryDelayMs: 1 }, env), 'torch');
  });
});

describe('hubSourceFromEnvironment', () => {
  it('defaults to huggingface.co, treats empty variables as unset, and lets options win', () => {
    const plain = hubSourceFromEnvironment('huggyllama/llama-7b', {}, { HF_ENDPOINT: '', HF_TOKEN: '' });
    expect(plain.endpoint).toBe('https://huggingface.co');
    expect(plain.description).toBe('huggyllama/llama-7b@main');
    const mirrored = hubSourceFromEnvironment('a/b', { revision: 'v1' }, { HF_ENDPOINT: 'https://mirror.example/' });
    expect(mirrored.description).toBe('a/b@v1 on https://mirror.example');
    expect(hubSourceFromEnvironment('a/b', { endpoint: 'http://x.test' }, { HF_ENDPOINT: 'https://y.test' }).endpoint).toBe('http://x.test');
  });
});
