/**
 * `--model org/name` end to end: the CLI downloads from a local fake hub (LFS redirects, Range
 * reads), resumes after a connection is cut mid-shard, quantises to q4 on the GPU, writes the
 * cache, and on the second run generates the same ids with the hub offline.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_HUB_TOKEN, startFakeHub, type FakeHub } from '../loader/hub/fake-hub';
import { buildTinyModelWithTokenizer } from '../model/tiny-model-node';
import { cli } from './testing';

let hub: FakeHub;
let cacheDir: string;
/** CDN path of each repo's first weight shard (LFS files are served by sha256). */
const firstShard = new Map<string, string>();
const spec = { hiddenSize: 64, intermediateSize: 160, numLayers: 2, numHeads: 4, numKvHeads: 2, dtype: 'F16', shards: 2, seed: 41 } as const;

beforeAll(async () => {
  hub = await startFakeHub({ lfsThresholdBytes: 64 * 1024 });
  cacheDir = await mkdtemp(path.join(tmpdir(), 'cli-cache-'));
  for (const format of ['safetensors', 'torch'] as const) {
    const { files } = await buildTinyModelWithTokenizer({ ...spec, format });
    const shard = [...files.keys()].find((name) => /-00001-of-/.test(name))!;
    firstShard.set(`tiny/llama-${format}`, `/lfs-cdn/${createHash('sha256').update(files.get(shard)!).digest('hex')}`);
    hub.addRepo(`tiny/llama-${format}`, files);
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
    const cdn = hub.requests.slice(before).filter((r) => r.path === firstShard.get(repo));
    const cut = cdn.findIndex((r) => r.fault === 'cut');
    expect(cut).toBeGreaterThanOrEqual(0);
    // The retry asks for the same file from the first byte the cut connection did not deliver.
    const [cutStart] = /bytes=(\d+)-/.exec(cdn[cut].range!)!.slice(1).map(Number);
    const resumed = cdn.slice(cut + 1).find((r) => r.path === cdn[cut].path && r.range?.startsWith(`bytes=${cutStart + 100_000}-`));
    expect(resumed, JSON.stringify(cdn.slice(cut, cut + 3))).toBeDefined();
    const ids = (JSON.parse(first.stdout) as { ids: number[] }).ids;
    expect(ids.length).toBeGreaterThan(0);

    hub.faults.offline = true;
    const second = await generate(repo);
    hub.faults.offline = false;
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/loaded from cache \(offline: using the cached copy\)/);
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
