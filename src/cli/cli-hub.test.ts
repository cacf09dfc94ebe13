/**
 * `--model org/name` end to end: the CLI downloads from a local fake hub (LFS redirects, Range
 * reads), resumes after a connection is cut mid-shard, quantises to q4 on the GPU, writes the
 * cache, and on the second run generates the same ids with the hub offline.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_HUB_TOKEN, startFakeHub, type FakeHub, type RequestLog } from '../loader/testing/fake-hub';
import { buildTinyModelWithTokenizer } from '../model/tiny-model-node';
import { cli, spawnCli } from './testing';

let hub: FakeHub;
let cacheDir: string;
/** CDN path of each repo's first weight shard (LFS files are served by sha256). */
const firstShard = new Map<string, string>();
let secondTorchShard = '';
/** Greedy ids each repo's uninterrupted run produced. */
const greedyIds = new Map<string, number[]>();
const spec = { hiddenSize: 64, intermediateSize: 160, numLayers: 2, numHeads: 4, numKvHeads: 2, dtype: 'F16', shards: 2, seed: 41 } as const;

beforeAll(async () => {
  hub = await startFakeHub({ lfsThresholdBytes: 64 * 1024 });
  cacheDir = await mkdtemp(path.join(tmpdir(), 'cli-cache-'));
  for (const format of ['safetensors', 'torch'] as const) {
    const { files } = await buildTinyModelWithTokenizer({ ...spec, format });
    const shard = [...files.keys()].find((name) => /-00001-of-/.test(name))!;
    firstShard.set(`tiny/llama-${format}`, `/lfs-cdn/${createHash('sha256').update(files.get(shard)!).digest('hex')}`);
    hub.addRepo(`tiny/llama-${format}`, files);
    if (format === 'torch') {
      // The same weights under another name, for the killed-download test's own cache entry.
      hub.addRepo('tiny/resume-torch', files);
      secondTorchShard = `/lfs-cdn/${createHash('sha256').update(files.get(shard.replace('-00001-', '-00002-'))!).digest('hex')}`;
    }
  }
  hub.addRepo('tiny/gated', (await buildTinyModelWithTokenizer({ ...spec, format: 'safetensors', shards: 1 })).files, { gated: true });
});
afterAll(async () => {
  await hub?.close();
  await rm(cacheDir, { recursive: true, force: true });
});

const run = (args: string[], env: Record<string, string> = {}) => cli([...args, '--cache-dir', cacheDir], { HF_ENDPOINT: hub.url, ...env });
const generate = (repo: string) => run(['generate', '--model', repo, '--prompt', '하와이 3일 여행 계획', '--dtype', 'q4', '--max-new-tokens', '5', '--json']);

describe.each(['tiny/llama-safetensors', 'tiny/llama-torch'])('cli generate --model %s --dtype q4', (repo) => {
  it('downloads through a cut connection (resuming), caches, then runs offline from the cache', async () => {
    hub.faults.clear();
    // The first tensor read of the shard is cut after 100 kB (header probes are not).
    hub.faults.add(firstShard.get(repo)!, { kind: 'cut', afterBytes: 100_000 }, 1, { minBytes: 200_000 });
    const before = hub.requests.length;
    const first = await generate(repo);
    expect(first.code, first.stderr).toBe(0);
    // Before the download: what it takes, and the license (none stated for these repos).
    expect(first.stderr).toMatch(/^cost: download [\d.]+ MiB; disk [\d.]+ MiB at q4; GPU [\d.]+ MiB \(weights [\d.]+ MiB \+ KV cache [\d.]+ MiB at 512 tokens\); free .*: fits; license not stated \(http.*\)$/m);
    const cdn = hub.requests.slice(before).filter((r) => r.path === firstShard.get(repo));
    const cut = cdn.findIndex((r) => r.fault === 'cut');
    expect(cut).toBeGreaterThanOrEqual(0);
    // The retry asks for the same file from the first byte the cut connection did not deliver.
    const [cutStart] = /bytes=(\d+)-/.exec(cdn[cut].range!)!.slice(1).map(Number);
    const resumed = cdn.slice(cut + 1).find((r) => r.path === cdn[cut].path && r.range?.startsWith(`bytes=${cutStart + 100_000}-`));
    expect(resumed, JSON.stringify(cdn.slice(cut, cut + 3))).toBeDefined();
    const ids = (JSON.parse(first.stdout) as { ids: number[] }).ids;
    expect(ids.length).toBeGreaterThan(0);
    greedyIds.set(repo, ids);

    hub.faults.offline = true;
    const second = await generate(repo);
    hub.faults.offline = false;
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/loaded from cache \(offline: using the cached copy\)/);
    expect(second.stderr).not.toMatch(/^cost:/m); // nothing to download
    expect((JSON.parse(second.stdout) as { ids: number[] }).ids).toEqual(ids);
  });
});

describe('cli against the hub: errors and cache management', () => {
  it('a gated repo needs HF_TOKEN; unknown repos are not-found; offline without cache is download-failed', async () => {
    const gated = await run(['tokenize', '--model', 'tiny/gated', '--text', 'hi']);
    expect(gated.code).toBe(1);
    expect(gated.stderr).toMatch(/error \[unauthorized\].*token/i);
    const withToken = await run(['tokenize', '--model', 'tiny/gated', '--text', 'hi'], { HF_TOKEN: FAKE_HUB_TOKEN });
    expect(withToken.code, withToken.stderr).toBe(0);
    expect(JSON.parse(withToken.stdout).ids[0]).toBe(1);

    const missing = await run(['tokenize', '--model', 'tiny/nope', '--text', 'hi']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/error \[not-found\]/);

    hub.faults.offline = true;
    const offline = await run(['tokenize', '--model', 'tiny/gated', '--text', 'hi'], { HF_TOKEN: FAKE_HUB_TOKEN });
    hub.faults.offline = false;
    expect(offline.code).toBe(1);
    expect(offline.stderr).toMatch(/error \[download-failed\]/);
  });

  it('cache list shows the cached models; cache delete removes one', async () => {
    const listed = await run(['cache', 'list', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const entries = JSON.parse(listed.stdout) as { id: string; repo: string; dtype: string; bytes: number }[];
    expect(entries.map((e) => `${e.repo} ${e.dtype}`).sort()).toEqual(['tiny/llama-safetensors q4', 'tiny/llama-torch q4']);
    expect(entries.every((e) => e.bytes > 0)).toBe(true);
    const deleted = await run(['cache', 'delete', entries[0].id]);
    expect(deleted.code, deleted.stderr).toBe(0);
    const after = JSON.parse((await run(['cache', 'list', '--json'])).stdout) as unknown[];
    expect(after).toHaveLength(1);
    const again = await run(['cache', 'delete', entries[0].id]);
    expect(again.stderr).toMatch(/error \[not-found\]/);
  });
});

describe('cli generate killed mid-download', () => {
  it('leaves a partial entry that cache list shows, and the next run continues it', async () => {
    const dir = path.join(cacheDir, 'killed');
    const args = ['generate', '--model', 'tiny/resume-torch', '--cache-dir', dir, '--prompt', '하와이 3일 여행 계획', '--dtype', 'q4', '--max-new-tokens', '5', '--json'];
    hub.faults.clear();
    // The second shard's large tensor (lm_head) hangs, as a dropped connection would, after
    // everything before it was converted and saved; then the process is killed.
    hub.faults.add(secondTorchShard, { kind: 'stall', ms: 120_000 }, Infinity, { minBytes: 200_000 });
    const before = hub.requests.length;
    const killed = spawnCli(args, { HF_ENDPOINT: hub.url });
    await waitFor(async () => hub.requests.slice(before).some((r) => r.fault === 'stall') && (await journalLines(dir)) >= 3);
    await new Promise((resolve) => setTimeout(resolve, 500)); // the saves queued before the stall finish
    killed.child.kill('SIGKILL');
    expect((await killed.result).code).not.toBe(0);
    hub.faults.clear();

    const listed = JSON.parse((await cli(['cache', 'list', '--json', '--cache-dir', dir])).stdout) as { repo: string; partial?: boolean; bytes: number; expectedBytes: number }[];
    expect(listed).toEqual([expect.objectContaining({ repo: 'tiny/resume-torch', partial: true })]);
    expect(listed[0].bytes).toBeGreaterThan(0);
    expect(listed[0].bytes).toBeLessThan(listed[0].expectedBytes);
    expect((await cli(['cache', 'list', '--cache-dir', dir])).stdout).toMatch(/partial: .* of .*%/);

    const firstRunCdnBytes = cdnBytes(hub.requests.slice(before));
    const middle = hub.requests.length;
    const next = await cli(args, { HF_ENDPOINT: hub.url });
    expect(next.code, next.stderr).toBe(0);
    const percent = Number(/resuming at (\d+)%/.exec(next.stderr)?.[1]);
    expect(percent, next.stderr).toBeGreaterThan(0);
    // The second run fetched only what the first had not finished: far less than a whole download.
    const secondRunCdnBytes = cdnBytes(hub.requests.slice(middle));
    expect(secondRunCdnBytes).toBeLessThan(firstRunCdnBytes);
    expect((JSON.parse(next.stdout) as { ids: number[] }).ids).toEqual(greedyIds.get('tiny/llama-torch'));
    const after = JSON.parse((await cli(['cache', 'list', '--json', '--cache-dir', dir])).stdout) as { partial?: boolean }[];
    expect(after).toEqual([expect.not.objectContaining({ partial: true })]);
  });

  it('then, its cached copy cut to half behind its back: says it was damaged and is downloaded again', async () => {
    // The complete entry the test above left (a second download would cost this file another run).
    const dir = path.join(cacheDir, 'killed');
    const [entry] = JSON.parse((await cli(['cache', 'list', '--json', '--cache-dir', dir])).stdout) as { id: string; partial?: boolean }[];
    expect(entry).toEqual(expect.not.objectContaining({ partial: true }));
    const weights = path.join(dir, entry.id, 'weights.bin');
    await truncate(weights, Math.floor((await stat(weights)).size / 2));

    const before = hub.requests.length;
    const again = await cli(['generate', '--model', 'tiny/resume-torch', '--cache-dir', dir, '--prompt', '하와이 3일 여행 계획', '--dtype', 'q4', '--max-new-tokens', '5', '--json'], {
      HF_ENDPOINT: hub.url,
    });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/^warning: the cached copy of tiny\/resume-torch was damaged \(weights\.bin holds [\d.]+ (bytes|MiB) of the [\d.]+ (bytes|MiB) its manifest lists\): it was removed and the model is being downloaded again$/m);
    expect(again.stderr).toMatch(/^downloaded again: the cached copy was damaged \(weights\.bin holds .*\)$/m);
    expect(again.stderr).not.toMatch(/loaded from cache/);
    expect(cdnBytes(hub.requests.slice(before))).toBeGreaterThan(0);
    expect((JSON.parse(again.stdout) as { ids: number[] }).ids).toEqual(greedyIds.get('tiny/llama-torch'));
  });
});

/** Lines in the journal of the (one) partial entry under `dir`: 1 is the head, each more a saved buffer. */
async function journalLines(dir: string): Promise<number> {
  const folder = (await readdir(dir).catch(() => [] as string[])).find((name) => name.includes('.partial-'));
  if (!folder) return 0;
  const text = await readFile(path.join(dir, folder, '.journal'), 'utf8').catch(() => '');
  return text.split('\n').length - 1;
}

/** Bytes of weight-file ranges the CDN was asked for (what a download costs). */
function cdnBytes(requests: RequestLog[]): number {
  return requests
    .filter((r) => r.path.startsWith('/lfs-cdn/') && r.range)
    .reduce((sum, r) => {
      const [start, end] = /bytes=(\d+)-(\d+)/.exec(r.range!)!.slice(1).map(Number);
      return sum + end - start + 1;
    }, 0);
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  for (const started = Date.now(); !(await condition()); ) {
    if (Date.now() - started > timeoutMs) throw new Error('timed out waiting for the download to stall');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

