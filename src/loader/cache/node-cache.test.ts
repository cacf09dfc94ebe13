import { mkdir, mkdtemp, open, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectCode, expectRandomReads, randomBytes, sameBytes } from '../testing/test-support';
import { cacheEntryId, type CacheKey, type CacheWriter } from './cache-store';
import { defaultCacheDir, NodeCacheStore } from './node-cache';
import type { WritableFile } from './node-cache-writer';

const key: CacheKey = { repo: 'beomi/KoAlpaca-Polyglot-7B', revision: '5f5d1f8a0b8f9c6c5e3c2f9d6a1b0e4d3c2b1a09', dtype: 'q4' };
const otherKey: CacheKey = { repo: 'lmsys/vicuna-7b-v1.5', revision: 'local', dtype: 'q4' };
const sources = { 'model.safetensors': { etag: '"sha256-abc"', size: 14_000_000_000 } };
const HOUR = 60 * 60 * 1000;

/** Writes a small complete entry: config.json and weights.bin. */
async function writeEntry(store: NodeCacheStore, entryKey: CacheKey, weights: Uint8Array): Promise<void> {
  const writer = await store.create(entryKey, weights.length + 2);
  await writer.append('config.json', new TextEncoder().encode('{}'));
  await writer.append('weights.bin', weights);
  await writer.commit({ key: entryKey, sources, extra: { layout: 'test' } });
}

describe('NodeCacheStore', () => {
  let root: string;

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'node-cache-'));
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('writes interleaved chunked files once and reads them back byte-exact by range', async () => {
    const store = new NodeCacheStore(root);
    const weights = randomBytes(5 * 1024 * 1024 + 123, 1);
    const tokenizer = randomBytes(300_001, 2);
    const config = '{"hidden_size": 4096, "name": "코알파카"}';
    const writer = await store.create(key, weights.length + tokenizer.length + 100);
    let tokenizerAt = 0;
    for (let at = 0; at < weights.length; at += 65_537) {
      await writer.append('weights.bin', weights.subarray(at, at + 65_537));
      if (tokenizerAt < tokenizer.length) await writer.append('tokenizer.model', tokenizer.subarray(tokenizerAt, (tokenizerAt += 10_007)));
    }
    await writer.append('config.json', new TextEncoder().encode(config));
    const entry = await writer.commit({ key, sources, extra: { layout: [1, 2, 3] } });
    const configBytes = new TextEncoder().encode(config).length;
    expect(entry.id).toBe(cacheEntryId(key));
    expect(entry.manifest).toMatchObject({
      version: 1,
      key,
      sources,
      files: { 'weights.bin': { size: weights.length }, 'tokenizer.model': { size: tokenizer.length }, 'config.json': { size: configBytes } },
      totalBytes: weights.length + tokenizer.length + configBytes,
      extra: { layout: [1, 2, 3] },
    });
    expect((await readdir(root)).sort()).toEqual([entry.id]);

    const opened = await new NodeCacheStore(root).open(key); // a second start: a new store, same folder
    expect(opened?.entry).toEqual(entry);
    const files = opened!.files;
    expect(await files.size('weights.bin')).toBe(weights.length);
    expect(await files.size('manifest.json')).toBeNull();
    expect(sameBytes(await files.read('weights.bin', 0, weights.length), weights)).toBe(true);
    expect(sameBytes(await files.read('tokenizer.model', 0, tokenizer.length), tokenizer)).toBe(true);
    await expectRandomReads(files, 'weights.bin', weights, 3);
    expect(await files.readText('config.json')).toBe(config);
    expect(await files.readText('missing.json')).toBeNull();
    await expectCode(files.read('weights.bin', weights.length - 1, 2), 'integrity-failed');
    await expectCode(files.read('missing.bin', 0, 1), 'not-found');
    await opened!.files.close();
  });

  it('keeps call order for appends fired without awaiting', async () => {
    const store = new NodeCacheStore(root);
    const parts = [randomBytes(1000, 4), randomBytes(7, 5), randomBytes(50_000, 6)];
    const writer = await store.create(key, 60_000);
    await Promise.all(parts.map((part) => writer.append('weights.bin', part)));
    await writer.commit({ key, sources: {}, extra: undefined });
    const opened = await store.open(key);
    expect(opened!.entry.manifest.extra).toBeNull();
    expect(sameBytes(await opened!.files.read('weights.bin', 0, 51_007), Buffer.concat(parts))).toBe(true);
    await opened!.files.close();
  });

  it('never shows an entry that was not committed, and removes it once stale', async () => {
    const store = new NodeCacheStore(root);
    await writeEntry(store, otherKey, randomBytes(100, 7));
    const crashed = await store.create(key, 1000); // a crash: appended, never committed or aborted
    await crashed.append('weights.bin', randomBytes(1000, 8));
    expect(await store.open(key)).toBeNull();
    expect((await store.list()).map((entry) => entry.id)).toEqual([cacheEntryId(otherKey)]);
    expect(await readdir(root)).toHaveLength(2); // a live writer's folder survives other processes' list()

    const later = new NodeCacheStore(root, { now: () => Date.now() + 2 * HOUR });
    const listed = await later.list();
    expect(listed).toEqual([{ id: cacheEntryId(otherKey), manifest: expect.objectContaining({ key: otherKey }), bytes: 102 }]);
    expect(await readdir(root)).toEqual([cacheEntryId(otherKey)]);
    await crashed.abort(); // only to close its file handle: this process did not really crash
  });

  it('abort removes everything, is idempotent, and ends the writer', async () => {
    const store = new NodeCacheStore(root);
    const writer = await store.create(key, 2000);
    await writer.append('weights.bin', randomBytes(1000, 9));
    await writer.append('config.json', randomBytes(10, 10));
    await writer.abort();
    await writer.abort();
    expect(await readdir(root)).toEqual([]);
    await expectCode(writer.append('weights.bin', randomBytes(1, 11)), 'internal', /aborted/);
    await expectCode(writer.commit({ key, sources, extra: null }), 'internal', /aborted/);
    expect(await readdir(root)).toEqual([]);
  });

  it('abort after commit leaves the entry alone', async () => {
    const store = new NodeCacheStore(root);
    const writer = await store.create(key, 10);
    await writer.append('weights.bin', randomBytes(10, 12));
    await writer.commit({ key, sources, extra: null });
    await writer.abort();
    const opened = await store.open(key);
    expect(opened).not.toBeNull();
    await opened!.files.close();
  });

  it('a second commit for the key replaces the first, which open readers keep reading', async () => {
    const store = new NodeCacheStore(root);
    const first = randomBytes(4096, 13);
    const second = randomBytes(5000, 14);
    await writeEntry(store, key, first);
    const reader = await store.open(key);
    await writeEntry(store, key, second);
    expect(await readdir(root)).toEqual([cacheEntryId(key)]);
    const opened = await store.open(key);
    expect(sameBytes(await opened!.files.read('weights.bin', 0, second.length), second)).toBe(true);
    // The earlier source holds its files open: on POSIX it still reads the entry it opened.
    if (process.platform !== 'win32') expect(sameBytes(await reader!.files.read('weights.bin', 0, first.length), first)).toBe(true);
    await Promise.all([reader!.files.close(), opened!.files.close()]);
  });

  it('deletes entries by id', async () => {
    const store = new NodeCacheStore(root);
    await writeEntry(store, key, randomBytes(10, 15));
    await writeEntry(store, otherKey, randomBytes(10, 16));
    await store.delete(cacheEntryId(key));
    expect(await store.open(key)).toBeNull();
    expect((await store.list()).map((entry) => entry.id)).toEqual([cacheEntryId(otherKey)]);
    await store.delete(cacheEntryId(key)); // already gone: nothing to do
    await expectCode(store.delete('../etc'), 'bad-input');
    await expectCode(store.delete(`${cacheEntryId(otherKey)}.partial-x-y`), 'bad-input');
    expect(await readdir(root)).toEqual([cacheEntryId(otherKey)]);
  });

  describe('treats a damaged entry as absent and removes it', () => {
    const damages: [string, (folder: string) => Promise<void>][] = [
      ['unparsable manifest', (folder) => writeFile(path.join(folder, 'manifest.json'), '{"version": 1, "key"')],
      ['missing manifest', (folder) => rm(path.join(folder, 'manifest.json'))],
      ['manifest with a wrong size', async (folder) => {
        const manifest = JSON.parse(await readFile(path.join(folder, 'manifest.json'), 'utf8'));
        manifest.files['weights.bin'].size += 1;
        manifest.totalBytes += 1;
        await writeFile(path.join(folder, 'manifest.json'), JSON.stringify(manifest));
      }],
      ['truncated stored file', (folder) => truncate(path.join(folder, 'weights.bin'), 100)],
      ['missing stored file', (folder) => rm(path.join(folder, 'weights.bin'))],
      ['manifest of another key', async (folder) => {
        const manifest = JSON.parse(await readFile(path.join(folder, 'manifest.json'), 'utf8'));
        manifest.key = otherKey;
        await writeFile(path.join(folder, 'manifest.json'), JSON.stringify(manifest));
      }],
    ];
    const reasons: Record<string, string> = {
      'unparsable manifest': 'its manifest is missing or unreadable',
      'missing manifest': 'its manifest is missing or unreadable',
      'manifest with a wrong size': 'weights.bin holds 1000 bytes of the 1001 bytes its manifest lists',
      'truncated stored file': 'weights.bin holds 100 bytes of the 1000 bytes its manifest lists',
      'missing stored file': 'weights.bin is missing',
      'manifest of another key': 'its manifest names another model (lmsys/vicuna-7b-v1.5)',
    };
    for (const [name, damage] of damages) {
      it(name, async () => {
        const store = new NodeCacheStore(root);
        await writeEntry(store, key, randomBytes(1000, 17));
        await damage(path.join(root, cacheEntryId(key)));
        expect(await store.open(key)).toBeNull();
        expect(await store.list()).toEqual([]);
        expect(await readdir(root)).toEqual([]);
        // The load that finds nothing is told why, once.
        expect(store.takeDamage(key)).toBe(reasons[name]);
        expect(store.takeDamage(key)).toBeUndefined();
      });
    }
  });

  it('leaves folders that are not entries alone', async () => {
    await mkdir(path.join(root, 'my notes'));
    await writeFile(path.join(root, 'README'), 'mine');
    expect(await new NodeCacheStore(root).list()).toEqual([]);
    expect((await readdir(root)).sort()).toEqual(['README', 'my notes']);
  });

  it('refuses to start an entry that does not fit, saying how much is needed', async () => {
    const store = new NodeCacheStore(root, { freeBytes: async () => 100 * 1024 * 1024 });
    const error = await expectCode(store.create(key, 3 * 1024 ** 3), 'quota-exceeded', /needs 3\.1 GiB .* only 100\.0 MiB is available/);
    expect(error.detail).toEqual({ needed: 3 * 1024 ** 3 + 64 * 1024 * 1024, available: 100 * 1024 * 1024 });
    expect(await readdir(root)).toEqual([]);
  });

  it('turns a full disk mid-write into quota-exceeded and leaves no debris', async () => {
    let written = 0;
    const diskFull = async (file: string): Promise<WritableFile> => {
      const handle = await open(file, 'wx');
      return {
        write: async (buffer, offset, length, position) => {
          if (written + length > 1_000_000) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
          written += length;
          return handle.write(buffer, offset, length, position);
        },
        datasync: () => handle.datasync(),
        close: () => handle.close(),
      };
    };
    // statfs says 5 GiB throughout (another program freed it, a quota it does not see): it contradicts the write.
    const store = new NodeCacheStore(root, { openForWrite: diskFull, freeBytes: async () => 5 * 1024 ** 3 });
    const writer: CacheWriter = await store.create(key, 2_000_000);
    await writer.append('config.json', randomBytes(100, 18));
    await writer.append('weights.bin', randomBytes(600_000, 19));
    const error = await expectCode(writer.append('weights.bin', randomBytes(600_000, 20)), 'quota-exceeded', /refused to store more of beomi\/KoAlpaca-Polyglot-7B \(ENOSPC\)/);
    expect(error.message).not.toMatch(/GiB|MiB|available/);
    expect(error.detail).toEqual({ needed: 2_000_000 + 64 * 1024 * 1024, refused: true });
    expect(store.writeRefused()).toBe(true);
    expect(await readdir(root)).toEqual([]);
    // The writer stays failed with the same error, and the caller's abort() is harmless.
    await expect(writer.commit({ key, sources, extra: null })).rejects.toBe(error);
    await writer.abort();
    expect(await store.list()).toEqual([]);
  });

  it('gives the figures of a refused write when they agree: the disk is full', async () => {
    let full = false;
    const diskFull = async (file: string): Promise<WritableFile> => {
      const handle = await open(file, 'wx');
      return {
        write: async () => {
          full = true;
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        },
        datasync: () => handle.datasync(),
        close: () => handle.close(),
      };
    };
    const store = new NodeCacheStore(root, { openForWrite: diskFull, freeBytes: async () => (full ? 10 * 1024 * 1024 : 5 * 1024 ** 3) });
    const writer: CacheWriter = await store.create(key, 2_000_000);
    const error = await expectCode(writer.append('weights.bin', randomBytes(600_000, 20)), 'quota-exceeded', /needs 65\.9 MiB .* only 10\.0 MiB is available/);
    expect(error.detail).toEqual({ needed: 2_000_000 + 64 * 1024 * 1024, available: 10 * 1024 * 1024, refused: true });
    expect(store.writeRefused()).toBe(true);
  });

  it('refuses stored file names that are not flat', async () => {
    const store = new NodeCacheStore(root);
    const writer = await store.create(key, 10);
    await expectCode(writer.append('../escape.bin', randomBytes(1, 21)), 'bad-input', /flat file name/);
    expect(await readdir(root)).toEqual([]);
  });

  it('reports usage', async () => {
    const store = new NodeCacheStore(path.join(root, 'not-yet'), { freeBytes: async () => 2 ** 30 });
    expect(await store.usage()).toEqual({ usedBytes: 0, availableBytes: 2 ** 30 });
    await writeEntry(store, key, randomBytes(98, 22));
    expect(await store.usage()).toEqual({ usedBytes: 100, availableBytes: 2 ** 30 });
    const real = await new NodeCacheStore(root).usage();
    expect(real.availableBytes).toBeGreaterThan(0);
  });

  it('puts the default folder under XDG_CACHE_HOME or ~/.cache', () => {
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/xdg' }, '/home/u')).toBe(path.join('/xdg', 'korean-vicuna-webgpu'));
    expect(defaultCacheDir({}, '/home/u')).toBe(path.join('/home/u', '.cache', 'korean-vicuna-webgpu'));
    expect(defaultCacheDir({ XDG_CACHE_HOME: 'relative' }, '/home/u')).toBe(path.join('/home/u', '.cache', 'korean-vicuna-webgpu'));
  });
});
