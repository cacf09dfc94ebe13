/**
 * openEngine's cache path on real WebGPU (Dawn) with the Node cache folder: a load stopped half
 * way keeps the buffers it finished, the next load restores them and reads only the tensors the
 * others need, and the result is the very model a clean load gives (the same logits, bit for
 * bit). The model is a q4 one whose MLP is 176 wide, so its entry mixes q4 and f16 matrices.
 */
import { mkdtemp, readdir, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testGpu, withBindingLimit } from '../gpu/testing';
import { NodeCacheStore } from '../loader/cache/node-cache';
import { MemorySource } from '../loader/sources/memory-source';
import { RecordingSource } from '../loader/testing/test-support';
import { buildTinyModelWithTokenizer } from '../model/tiny-model-node';
import { openEngine, type OpenProgress, type VersionedSource } from './open-engine';

const TOKENS = [1, 450, 4996, 17354, 1701, 432, 17204, 975];
const OPTIONS = { repo: 'tiny/mlp-176', revision: 'main', dtype: 'q4' as const, maxChunk: 8, logitsRows: 8, contextLength: 64 };

/** A hub-like source: a commit to tell snapshots apart, and every read recorded. */
class Snapshot extends RecordingSource implements VersionedSource {
  constructor(
    files: Map<string, Uint8Array>,
    private readonly commit: string,
  ) {
    super(new MemorySource(files));
  }
  resolvedCommit(): string {
    return this.commit;
  }
}

describe('openEngine: a stopped first load is continued, not restarted', () => {
  let root: string;
  let files: Map<string, Uint8Array>;
  let clean: Float32Array;

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'open-engine-'));
    files = (await buildTinyModelWithTokenizer({ hiddenSize: 64, intermediateSize: 176, numLayers: 3, numHeads: 4, numKvHeads: 2, dtype: 'F16', format: 'torch', shards: 2, seed: 51 })).files;
    const { engine } = await openEngine(await testGpu(), new Snapshot(files, 'c1'), OPTIONS);
    clean = await engine.model.logits(TOKENS);
    engine.dispose();
  });
  afterAll(async () => rm(root, { recursive: true, force: true }));

  it('keeps what was converted, resumes at that point reading far less, and gives the same model', async () => {
    const gpu = await testGpu();
    const cache = new NodeCacheStore(root);
    const stop = new AbortController();
    const first = new Snapshot(files, 'c1');
    let total = 0;
    let stoppedAt = 0;
    const stopped = openEngine(gpu, first, {
      ...OPTIONS,
      cache,
      signal: stop.signal,
      onProgress: (p) => {
        if (p.phase === 'download') total = p.totalBytes;
        // The embedding (first, 47% of the bytes) and a tensor or two more, then a reload.
        if (p.phase === 'download' && p.doneBytes > p.totalBytes * 0.5 && !stop.signal.aborted) {
          stoppedAt = p.doneBytes;
          stop.abort();
        }
      },
    });
    await expect(stopped).rejects.toMatchObject({ name: 'AbortError' });
    const [partial] = await cache.partials();
    expect(partial.bytes).toBeGreaterThan(0);
    expect(partial.live).toBe(false);

    const events: OpenProgress[] = [];
    const second = new Snapshot(files, 'c1');
    const resumed = await openEngine(gpu, second, { ...OPTIONS, cache, onProgress: (p) => events.push(p) });
    expect(resumed.fromCache).toBe(false);
    expect(resumed.cacheError).toBeUndefined();
    const phases = events.map((e) => e.phase).filter((phase, i, all) => phase !== all[i - 1]);
    expect(phases.slice(0, 3)).toEqual(['connect', 'cache-read', 'download']);
    const firstDownload = events.find((e) => e.phase === 'download')!;
    // Resumed where the stopped load's last finished buffer ended: past the start, before the stop.
    expect(firstDownload.resumedBytes).toBeGreaterThan(total * 0.45);
    expect(firstDownload.resumedBytes).toBeLessThanOrEqual(stoppedAt);
    expect(firstDownload.doneBytes).toBeGreaterThan(firstDownload.resumedBytes!);
    // Only the tensors still needed were read (besides the tokenizer and the shards' headers).
    expect(second.bytesRead).toBeLessThan(total - firstDownload.resumedBytes! + files.get('tokenizer.model')!.length + 256 * 1024);
    expect(Array.from(await resumed.engine.model.logits(TOKENS))).toEqual(Array.from(clean));
    resumed.engine.dispose();
    expect(await cache.partials()).toEqual([]);

    const again = await openEngine(gpu, new Snapshot(files, 'c1'), { ...OPTIONS, cache });
    expect(again.fromCache).toBe(true);
    expect(Array.from(await again.engine.model.logits(TOKENS))).toEqual(Array.from(clean));
    again.engine.dispose();
  });

  it('a new commit of the repo starts afresh instead of mixing snapshots', async () => {
    const gpu = await testGpu();
    const cache = new NodeCacheStore(path.join(root, 'commits'));
    const stop = new AbortController();
    const stopped = openEngine(gpu, new Snapshot(files, 'c1'), {
      ...OPTIONS,
      cache,
      signal: stop.signal,
      onProgress: (p) => p.phase === 'download' && p.doneBytes > p.totalBytes * 0.5 && stop.abort(),
    });
    await expect(stopped).rejects.toMatchObject({ name: 'AbortError' });
    const events: OpenProgress[] = [];
    const next = await openEngine(gpu, new Snapshot(files, 'c2'), { ...OPTIONS, cache, onProgress: (p) => events.push(p) });
    expect(events.some((e) => e.phase === 'cache-read' || e.resumedBytes !== undefined)).toBe(false);
    next.engine.dispose();
    expect(await cache.partials()).toEqual([]);
    expect((await cache.list()).map((e) => (e.manifest.extra as { commit: string }).commit)).toEqual(['c2']);
  });
});

describe('openEngine: the cache holds whole matrices, whatever the GPU split them into', () => {
  let root: string;
  afterAll(async () => rm(root, { recursive: true, force: true }));

  it('a model converted on a GPU that split its matrices loads from the cache on one that does not, and back', async () => {
    root = await mkdtemp(path.join(tmpdir(), 'open-engine-split-'));
    const files = (await buildTinyModelWithTokenizer({ hiddenSize: 64, intermediateSize: 176, numLayers: 2, numHeads: 4, numKvHeads: 2, dtype: 'F16', format: 'safetensors', shards: 1, seed: 52 })).files;
    const gpu = await testGpu();
    // 256 KiB: every layer matrix fits; the f16 embedding and lm_head (32000 x 64, 4 MB) split in 16 blocks.
    const small = withBindingLimit(gpu, 256 << 10);
    const options = { ...OPTIONS, repo: 'tiny/split', maxChunk: 4, logitsRows: 4, contextLength: 64 };
    const clean = await openEngine(gpu, new Snapshot(files, 'c1'), options);
    const expected = Array.from(await clean.engine.model.logits(TOKENS));
    clean.engine.dispose();

    const cache = new NodeCacheStore(root);
    const converted = await openEngine(small, new Snapshot(files, 'c1'), { ...options, cache });
    expect(converted.engine.model.weights.matrices.get('embed')!.blocks.length).toBeGreaterThan(1);
    expect(Array.from(await converted.engine.model.logits(TOKENS))).toEqual(expected);
    converted.engine.dispose();

    const restored = await openEngine(gpu, new Snapshot(files, 'c1'), { ...options, cache });
    expect(restored.fromCache).toBe(true);
    expect(restored.engine.model.weights.matrices.get('embed')!.blocks.length).toBe(1);
    expect(Array.from(await restored.engine.model.logits(TOKENS))).toEqual(expected);
    restored.engine.dispose();

    const restoredSplit = await openEngine(small, new Snapshot(files, 'c1'), { ...options, cache });
    expect(restoredSplit.fromCache).toBe(true);
    expect(restoredSplit.engine.model.weights.matrices.get('lm_head')!.blocks.length).toBeGreaterThan(1);
    expect(Array.from(await restoredSplit.engine.model.logits(TOKENS))).toEqual(expected);
    restoredSplit.engine.dispose();
  });
});

describe('openEngine: a damaged cached copy', () => {
  let root: string;
  let files: Map<string, Uint8Array>;

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'open-engine-damaged-'));
    files = (await buildTinyModelWithTokenizer({ hiddenSize: 64, intermediateSize: 128, numLayers: 2, numHeads: 4, numKvHeads: 2, dtype: 'F16', format: 'safetensors', shards: 1, seed: 52 })).files;
  });
  afterAll(async () => rm(root, { recursive: true, force: true }));

  it('is fetched again, and the load says so in every event after it and in its result', async () => {
    const gpu = await testGpu();
    const cache = new NodeCacheStore(root);
    const first = await openEngine(gpu, new Snapshot(files, 'c1'), { ...OPTIONS, cache });
    expect(first.cacheDamaged).toBeUndefined();
    const logits = await first.engine.model.logits(TOKENS);
    first.engine.dispose();
    const [entry] = await readdir(root);
    const { manifest } = (await cache.list())[0];
    await truncate(path.join(root, entry, 'weights.bin'), Math.floor(manifest.files['weights.bin'].size / 2));

    const events: OpenProgress[] = [];
    const source = new Snapshot(files, 'c1');
    const again = await openEngine(gpu, source, { ...OPTIONS, cache, onProgress: (p) => events.push(p) });
    expect(again.fromCache).toBe(false);
    expect(again.cacheDamaged).toMatch(/^weights\.bin holds .* of the .* its manifest lists$/);
    expect(events[0].phase).toBe('connect');
    expect(events.every((e) => e.cacheDamaged === again.cacheDamaged)).toBe(true);
    expect(events.some((e) => e.phase === 'download')).toBe(true);
    expect(Array.from(await again.engine.model.logits(TOKENS))).toEqual(Array.from(logits));
    again.engine.dispose();

    // The copy is whole again: the next load reads it and has nothing to report.
    const third = await openEngine(gpu, new Snapshot(files, 'c1'), { ...OPTIONS, cache });
    expect(third.fromCache).toBe(true);
    expect(third.cacheDamaged).toBeUndefined();
    third.engine.dispose();
  });
});
