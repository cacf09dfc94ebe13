/**
 * What Load will take, worked out from the fake hub's API (tree sizes, model card license) and
 * config.json, and checked against the files, the memory plan and the cache's room.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheEntryId } from '../loader/cache/cache-store';
import { NodeCacheStore } from '../loader/cache/node-cache';
import type { WritableFile } from '../loader/cache/node-cache-writer';
import { startFakeHub, type DiskFile, type FakeHub } from '../loader/testing/fake-hub';
import { HubSource } from '../loader/hub/hub-source';
import { parseConfig } from '../model/config';
import { layoutBytes, planMemory } from '../model/memory-plan';
import { QWEN3_06B } from '../model/testing/hub-configs';
import { buildTinyModelWithTokenizer } from '../model/tiny-model-node';
import { realTokenizerFiles } from '../tokenizer/testing/real-tokenizers';
import { weightLayout } from '../model/weights';
import { describeLoadCost, estimateLoadCost } from './load-cost';
import { SCORE_ROWS } from './engine';

let hub: FakeHub;
let root: string;
let files: Map<string, Uint8Array>;
const GIB = 1024 ** 3;

beforeAll(async () => {
  hub = await startFakeHub();
  root = await mkdtemp(path.join(tmpdir(), 'load-cost-'));
  files = (await buildTinyModelWithTokenizer({ hiddenSize: 64, intermediateSize: 176, numLayers: 2, numHeads: 4, numKvHeads: 2, dtype: 'F16', format: 'torch', shards: 2, seed: 61 })).files;
  hub.addRepo('tiny/licensed', files, { license: 'other' });
  hub.addRepo('tiny/no-card', files);
});
afterAll(async () => {
  await hub.close();
  await rm(root, { recursive: true, force: true });
});

const sizeOf = (...names: string[]) => names.reduce((sum, name) => sum + (files.get(name)?.length ?? 0), 0);
const SMALL = ['config.json', 'tokenizer.model', 'tokenizer_config.json', 'generation_config.json'];
const SHARDS = ['pytorch_model-00001-of-00002.bin', 'pytorch_model-00002-of-00002.bin'];

describe('estimateLoadCost', () => {
  it('adds up the download from the tree, the disk and GPU from the memory plan, the room and the card license', async () => {
    const cache = new NodeCacheStore(path.join(root, 'a'), { freeBytes: async () => 10 * GIB });
    const cost = await estimateLoadCost(new HubSource({ repo: 'tiny/licensed', endpoint: hub.url }), { dtype: 'q4', contextLength: 256, cache });
    const config = parseConfig(new TextDecoder().decode(files.get('config.json')));
    const layout = weightLayout(config, 'q4', true);
    const plan = planMemory(config, layout, { contextLength: 256, maxChunk: 256, logitsRows: SCORE_ROWS, kvFormat: 'f16' });
    expect(cost).toEqual({
      repo: 'tiny/licensed',
      dtype: 'q4',
      contextLength: 256,
      downloadBytes: sizeOf(...SHARDS, 'pytorch_model.bin.index.json', ...SMALL),
      sizeFrom: 'tree',
      diskBytes: layoutBytes(layout) + sizeOf(...SMALL),
      gpu: { totalBytes: plan.totalBytes, weightBytes: plan.weightBytes, kvCacheBytes: plan.kvCacheBytes },
      cached: false,
      storage: { availableBytes: 10 * GIB, neededBytes: expect.any(Number), fits: true },
      license: 'other',
      cardUrl: `${hub.url}/tiny/licensed`,
    });
    expect(describeLoadCost(cost, String)).toMatch(/^download \d+; disk \d+ at q4; GPU \d+ \(weights \d+ \+ KV cache \d+ at 256 tokens\); free \d+: fits; license other \(http/);
  });

  it('says when the cache lacks the room, with how much is needed', async () => {
    const cache = new NodeCacheStore(path.join(root, 'b'), { freeBytes: async () => 1024 });
    const cost = await estimateLoadCost(new HubSource({ repo: 'tiny/licensed', endpoint: hub.url }), { dtype: 'f16', contextLength: 512, cache });
    expect(cost.storage).toEqual({ availableBytes: 1024, neededBytes: cost.diskBytes + 64 * 1024 * 1024, fits: false });
    expect(describeLoadCost(cost, String)).toMatch(/NOT ENOUGH SPACE: needs \d+, 1024 free/);
  });

  it('after a refused write promises no room its figure shows, until an entry is deleted', async () => {
    // The disk refuses every write while statfs says 10 GiB: a quota the figure does not see.
    const refuse = async (): Promise<WritableFile> => ({
      write: async () => {
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      },
      datasync: async () => undefined,
      close: async () => undefined,
    });
    const cache = new NodeCacheStore(path.join(root, 'refused'), { freeBytes: async () => 10 * GIB, openForWrite: refuse });
    const source = () => new HubSource({ repo: 'tiny/licensed', endpoint: hub.url });
    expect((await estimateLoadCost(source(), { dtype: 'q4', contextLength: 256, cache })).storage).toMatchObject({ fits: true });
    const writer = await cache.create({ repo: 'tiny/licensed', revision: 'main', dtype: 'q4' }, 1000);
    await expect(writer.append('weights.bin', new Uint8Array(1000))).rejects.toMatchObject({ code: 'quota-exceeded' });
    const cost = await estimateLoadCost(source(), { dtype: 'q4', contextLength: 256, cache });
    expect(cost.storage).toEqual({ availableBytes: 10 * GIB, neededBytes: expect.any(Number), fits: false, refused: true });
    expect(describeLoadCost(cost, String)).toContain('the cache refused a write although it reported room, so its free space is unknown');
    expect(describeLoadCost(cost, String)).not.toMatch(/fits|free \d+/);
    await cache.delete(cacheEntryId({ repo: 'tiny/licensed', revision: 'main', dtype: 'q4' }));
    expect((await estimateLoadCost(source(), { dtype: 'q4', contextLength: 256, cache })).storage).toMatchObject({ fits: true });
  });

  it('knows an unfinished download (what is left to store) and a complete copy (no download)', async () => {
    const cache = new NodeCacheStore(path.join(root, 'c'), { freeBytes: async () => 10 * GIB });
    const source = () => new HubSource({ repo: 'tiny/licensed', endpoint: hub.url });
    const key = { repo: 'tiny/licensed', revision: 'main', dtype: 'q4' };
    const { writer } = await cache.resume(key, 1_000_000, { any: 'header' });
    await writer.append('weights.bin', new Uint8Array(4000));
    await writer.checkpoint('one buffer');
    await writer.suspend();
    const partial = await estimateLoadCost(source(), { dtype: 'q4', contextLength: 256, cache });
    expect(partial).toMatchObject({ cached: false, partialBytes: 4000, storage: { neededBytes: partial.diskBytes - 4000 + 64 * 1024 * 1024 } });
    const complete = await cache.create(key, 10);
    await complete.append('weights.bin', new Uint8Array(10));
    await complete.commit({ key, sources: {}, extra: null });
    expect(await estimateLoadCost(source(), { dtype: 'q4', contextLength: 256, cache })).toMatchObject({ cached: true, storage: { neededBytes: 0, fits: true } });
  });

  it('without the API (a plain mirror) falls back to the shard index, and a card without a license says none', async () => {
    const noApi: typeof fetch = (input, init) => (String(input).includes('/api/') ? Promise.resolve(new Response('', { status: 404 })) : fetch(input, init));
    const cost = await estimateLoadCost(new HubSource({ repo: 'tiny/no-card', endpoint: hub.url, fetch: noApi }), { dtype: 'q4', contextLength: 64 });
    const index = JSON.parse(new TextDecoder().decode(files.get('pytorch_model.bin.index.json'))) as { metadata: { total_size: number } };
    expect(cost).toMatchObject({ sizeFrom: 'index', downloadBytes: index.metadata.total_size + sizeOf(...SMALL), cached: false });
    expect(cost.license).toBeUndefined();
    expect(cost.storage).toBeUndefined();
    expect(describeLoadCost(cost, String)).toMatch(/license not stated/);
  });

  it('counts only the files the loader will read: safetensors over .bin where a repo has both', async () => {
    const safetensors = (await buildTinyModelWithTokenizer({ hiddenSize: 64, intermediateSize: 176, numLayers: 2, numHeads: 4, numKvHeads: 2, dtype: 'F16', format: 'safetensors', shards: 1, seed: 61 })).files;
    hub.addRepo('tiny/both', new Map([...files, ['model.safetensors', safetensors.get('model.safetensors')!]]));
    const cost = await estimateLoadCost(new HubSource({ repo: 'tiny/both', endpoint: hub.url }), { dtype: 'q4', contextLength: 64 });
    expect(cost).toMatchObject({ sizeFrom: 'tree', downloadBytes: safetensors.get('model.safetensors')!.length + sizeOf(...SMALL) });
  });
});

describe('estimateLoadCost with a 152k vocabulary', () => {
  it('Qwen3-0.6B (tied, 151,936 rows): the download counts its 11 MB tokenizer.json, the GPU its q4 table once and the scoring rows of logits', async () => {
    const qwen = realTokenizerFiles('qwen3');
    const text = (value: string) => new TextEncoder().encode(value);
    // Only the tree's sizes are read: the shard is listed (about Qwen3-0.6B's 1.5 GB), never fetched.
    const shard: DiskFile = { path: '/nonexistent/model.safetensors', size: 1_503_300_328, sha256: '0'.repeat(64) };
    const repoFiles = new Map<string, Uint8Array | DiskFile>([
      ['config.json', text(JSON.stringify(QWEN3_06B))],
      ['tokenizer.json', text(qwen.tokenizerJson)],
      ['tokenizer_config.json', text(qwen.tokenizerConfig)],
      ['model.safetensors', shard],
    ]);
    hub.addRepo('Qwen/Qwen3-0.6B', repoFiles, { license: 'apache-2.0' });
    const cost = await estimateLoadCost(new HubSource({ repo: 'Qwen/Qwen3-0.6B', endpoint: hub.url }), { dtype: 'q4', contextLength: 2048 });

    const small = ['config.json', 'tokenizer.json', 'tokenizer_config.json'].reduce((sum, name) => sum + (repoFiles.get(name) as Uint8Array).length, 0);
    expect(small).toBeGreaterThan(10e6);
    expect(cost).toMatchObject({ sizeFrom: 'tree', downloadBytes: shard.size + small, contextLength: 2048, license: 'apache-2.0' });
    // 151,936 x 1024 in f16 is 297 MiB (past Q4_TABLE_BYTES): q4, and the tied lm_head reads it.
    const layout = weightLayout(parseConfig(JSON.stringify(QWEN3_06B)), 'q4', false);
    expect(layout.matrices.filter((m) => m.rows === 151936)).toEqual([{ key: 'embed', format: 'q4', rows: 151936, cols: 1024 }]);
    expect(cost.gpu.weightBytes).toBe(layoutBytes(layout));
    expect(cost.diskBytes).toBe(layoutBytes(layout) + small);
    // 28 layers of k and v, 2048 positions of 8 kv heads x 128 in f16.
    expect(cost.gpu.kvCacheBytes).toBe(2 * 28 * 2048 * 8 * 128 * 2);
    // Beyond weights and cache: the chat engine's SCORE_ROWS rows of f32 logits, 39 MB here.
    expect(cost.gpu.totalBytes - cost.gpu.weightBytes - cost.gpu.kvCacheBytes).toBeGreaterThanOrEqual(SCORE_ROWS * 151936 * 4);
    expect(cost.gpu.totalBytes).toBeLessThan(GIB);
  });
});
