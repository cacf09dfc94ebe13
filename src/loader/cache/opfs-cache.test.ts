/**
 * OpfsCacheStore's logic against the in-memory fake in fake-opfs.ts, once as in a worker (sync
 * access handles) and once as on the main thread (writable streams). Real OPFS is exercised by
 * the app's Playwright e2e.
 */

import { describe, expect, it } from 'vitest';
import { expectCode, expectRandomReads, randomBytes, sameBytes } from '../testing/test-support';
import { cacheEntryId, type CacheKey } from './cache-store';
import { FakeDirectory, FakeFile, FakeStorage, type FakeStorageOptions } from '../testing/fake-opfs';
import { OpfsCacheStore, requestPersistence } from './opfs-cache';

const key: CacheKey = { repo: 'beomi/KoAlpaca-Polyglot-7B', revision: '5f5d1f8a0b8f9c6c5e3c2f9d6a1b0e4d3c2b1a09', dtype: 'q4' };
const otherKey: CacheKey = { repo: 'lmsys/vicuna-7b-v1.5', revision: 'local', dtype: 'q4' };
const sources = { 'model.safetensors': { etag: '"sha256-abc"', size: 14_000_000_000 } };
const MIB = 1024 * 1024;
const HOUR = 60 * 60 * 1000;

describe.each([
  { mode: 'worker (sync access handles)', syncHandles: true },
  { mode: 'main thread (writable streams)', syncHandles: false },
])('OpfsCacheStore in a $mode', ({ syncHandles }) => {
  let time = Date.parse('2026-03-01T00:00:00Z');
  const clock = () => time;

  function setup(options: FakeStorageOptions = {}) {
    const storage = new FakeStorage({ syncHandles, clock, ...options });
    const store = new OpfsCacheStore({ storage, now: clock });
    const folders = () => [...(storage.root.children.get('models') as FakeDirectory | undefined)?.children.keys() ?? []].sort();
    const folder = (name: string) => (storage.root.children.get('models') as FakeDirectory).children.get(name) as FakeDirectory;
    return { storage, store, folders, folder };
  }

  async function writeEntry(store: OpfsCacheStore, entryKey: CacheKey, weights: Uint8Array) {
    const writer = await store.create(entryKey, weights.length + 2);
    await writer.append('config.json', new TextEncoder().encode('{}'));
    await writer.append('weights.bin', weights);
    time += 1000;
    return writer.commit({ key: entryKey, sources, extra: { layout: 'test' } });
  }

  it('writes interleaved chunked files and reads them back byte-exact by range', async () => {
    const { storage, store, folders } = setup();
    const weights = randomBytes(3 * MIB + 17, 1);
    const tokenizer = randomBytes(200_003, 2);
    const writer = await store.create(key, weights.length + tokenizer.length);
    let tokenizerAt = 0;
    for (let at = 0; at < weights.length; at += 262_147) {
      await writer.append('weights.bin', weights.subarray(at, at + 262_147));
      if (tokenizerAt < tokenizer.length) await writer.append('tokenizer.model', tokenizer.subarray(tokenizerAt, (tokenizerAt += 50_001)));
    }
    await writer.append('tokenizer.model', tokenizer.subarray(tokenizerAt));
    await writer.append('config.json', new TextEncoder().encode('{"vocab_size": 32000}'));
    const entry = await writer.commit({ key, sources, extra: { layout: [1, 2] } });
    expect(entry.manifest.files).toEqual({
      'config.json': { size: 21 },
      'tokenizer.model': { size: tokenizer.length },
      'weights.bin': { size: weights.length },
    });
    expect(folders()).toHaveLength(1);
    expect(folders()[0]).toMatch(new RegExp(`^${cacheEntryId(key)}\\.[0-9a-z]+-[0-9a-z]+$`));

    const opened = await new OpfsCacheStore({ storage, now: clock }).open(key); // a second start
    expect(opened?.entry).toEqual(entry);
    const files = opened!.files;
    expect(sameBytes(await files.read('weights.bin', 0, weights.length), weights)).toBe(true);
    expect(sameBytes(await files.read('tokenizer.model', 0, tokenizer.length), tokenizer)).toBe(true);
    await expectRandomReads(files, 'weights.bin', weights, 3);
    expect(await files.readText('config.json')).toBe('{"vocab_size": 32000}');
    expect(await files.size('manifest.json')).toBeNull();
    await expectCode(files.read('weights.bin', weights.length, 1), 'integrity-failed');
  });

  it('never shows an uncommitted entry; removes it only after an hour without writes', async () => {
    const { storage, store, folders } = setup();
    await writeEntry(store, otherKey, randomBytes(10, 4));
    const writer = await store.create(key, 3000);
    await writer.append('weights.bin', randomBytes(1000, 5));
    expect(await store.open(key)).toBeNull();
    expect((await store.list()).map((entry) => entry.id)).toEqual([cacheEntryId(otherKey)]);
    expect(folders()).toHaveLength(2);

    // A slow download: two hours after it began, the writer is still appending (and beating).
    time += 2 * HOUR;
    await writer.append('weights.bin', randomBytes(1000, 6));
    time += 30 * 60 * 1000;
    await store.list();
    expect(folders()).toHaveLength(2);
    await writer.append('weights.bin', randomBytes(1000, 7));
    const entry = await writer.commit({ key, sources, extra: null });
    expect(entry.manifest.totalBytes).toBe(3000);
    expect((await store.list()).map((listed) => listed.bytes)).toEqual([3000, 12]);

    // A writer that went silent (its tab closed mid-download) is debris after an hour.
    const abandoned = await store.create(key, 1000);
    await abandoned.append('weights.bin', randomBytes(1000, 8));
    storage.crash();
    time += 30 * 60 * 1000;
    await store.list();
    expect(folders()).toHaveLength(3);
    time += HOUR;
    await store.list();
    expect(folders()).toHaveLength(2);
  });

  it('abort removes everything and is idempotent', async () => {
    const { store, folders } = setup();
    const writer = await store.create(key, 2000);
    await writer.append('weights.bin', randomBytes(1000, 9));
    await writer.append('config.json', randomBytes(10, 10));
    await writer.abort();
    await writer.abort();
    expect(folders()).toEqual([]);
    await expectCode(writer.append('weights.bin', randomBytes(1, 11)), 'internal', /aborted/);
  });

  it('a second commit for the key replaces the first', async () => {
    const { store, folders } = setup();
    await writeEntry(store, key, randomBytes(100, 12));
    const second = randomBytes(200, 13);
    await writeEntry(store, key, second);
    expect(folders()).toHaveLength(1);
    const opened = await store.open(key);
    expect(sameBytes(await opened!.files.read('weights.bin', 0, 200), second)).toBe(true);
  });

  it('keeps the newest complete folder when removing the older one failed', async () => {
    const { storage, store, folders } = setup();
    const first = await writeEntry(store, key, randomBytes(100, 14));
    const firstFolder = folders()[0];
    storage.onRemove = (name) => {
      if (name === firstFolder) throw new DOMException('busy', 'NoModificationAllowedError');
    };
    const second = await writeEntry(store, key, randomBytes(200, 15));
    expect(second.manifest.createdAt > first.manifest.createdAt).toBe(true);
    expect(folders()).toHaveLength(2);
    storage.onRemove = undefined;
    expect((await store.open(key))?.entry).toEqual(second);
    expect(folders()).toHaveLength(1);
  });

  it('deletes entries by id', async () => {
    const { store, folders } = setup();
    await writeEntry(store, key, randomBytes(10, 16));
    await writeEntry(store, otherKey, randomBytes(10, 17));
    await store.delete(cacheEntryId(key));
    expect(await store.open(key)).toBeNull();
    expect((await store.list()).map((entry) => entry.id)).toEqual([cacheEntryId(otherKey)]);
    await store.delete(cacheEntryId(key));
    await expectCode(store.delete('models'), 'bad-input');
    expect(folders()).toHaveLength(1);
  });

  it('treats damaged entries as absent: wrong sizes are removed at once, a broken manifest once stale', async () => {
    const { store, folders, folder } = setup();
    await writeEntry(store, key, randomBytes(1000, 18));
    const truncated = folder(folders()[0]).children.get('weights.bin') as FakeFile;
    truncated.data = truncated.data.slice(0, 10);
    expect(await store.open(key)).toBeNull();
    expect(folders()).toEqual([]);
    // The load that finds nothing is told why, once: the copy was damaged, not never made.
    expect(store.takeDamage(otherKey)).toBeUndefined();
    expect(store.takeDamage(key)).toBe('weights.bin holds 10 bytes of the 1000 bytes its manifest lists');
    expect(store.takeDamage(key)).toBeUndefined();

    await writeEntry(store, key, randomBytes(1000, 19));
    const manifest = folder(folders()[0]).children.get('manifest.json') as FakeFile;
    manifest.data = manifest.data.slice(0, 40); // as if the tab died while the manifest was written
    expect(await store.open(key)).toBeNull();
    expect(await store.list()).toEqual([]);
    time += 2 * HOUR;
    await store.list();
    expect(folders()).toEqual([]);
    expect(store.takeDamage(key)).toBeUndefined(); // half a manifest is an unfinished write, not damage
  });

  it('a damaged entry found by list() is told to the next load', async () => {
    const { store, folders, folder } = setup();
    await writeEntry(store, key, randomBytes(1000, 18));
    folder(folders()[0]).children.delete('weights.bin');
    expect(await store.list()).toEqual([]);
    expect(await store.open(key)).toBeNull();
    expect(store.takeDamage(key)).toBe('weights.bin is missing');
  });

  it('refuses early an entry that exceeds the quota, saying how much is needed', async () => {
    const { store, folders } = setup({ writeLimit: 100 * MIB });
    const error = await expectCode(store.create(key, 200 * MIB), 'quota-exceeded', /needs 264\.0 MiB .* only 100\.0 MiB is available/);
    expect(error.detail).toEqual({ needed: 264 * MIB, available: 100 * MIB });
    expect(folders()).toEqual([]);
  });

  it('turns QuotaExceededError mid-write into quota-exceeded and leaves no debris', async () => {
    const { store, folders } = setup({ writeLimit: 2 * MIB, reportedQuota: 10 * 1024 * MIB });
    const writer = await store.create(key, 3 * MIB);
    await writer.append('weights.bin', randomBytes(MIB, 20));
    expect(store.writeRefused()).toBe(false);
    const error = await expectCode(writer.append('weights.bin', randomBytes(2 * MIB, 21)), 'quota-exceeded', /refused to store more of beomi\/KoAlpaca-Polyglot-7B \(QuotaExceededError\)/);
    // The estimate (10 GiB free) contradicts the refused write: the message says what is known, no figures.
    expect(error.message).not.toMatch(/GiB|MiB|available/);
    expect(error.message).toMatch(/free disk space, delete cached models in Model management, or allow persistent storage/);
    expect(error.detail).toEqual({ needed: 67 * MIB, refused: true });
    expect(store.writeRefused()).toBe(true);
    expect(folders()).toEqual([]);
    await writer.abort();
    await expect(writer.commit({ key, sources, extra: null })).rejects.toBe(error);
    // Deleting an entry changes the room: the refusal is old news.
    await store.delete(cacheEntryId(otherKey));
    expect(store.writeRefused()).toBe(false);
  });

  it('takes a sync access handle write that returns an error code (Chromium past the quota) for the refusal it is', async () => {
    const { store, folders } = setup({ writeLimit: 2 * MIB, reportedQuota: 10 * 1024 * MIB, quotaWriteReturnsErrorCode: true });
    const writer = await store.create(key, 3 * MIB);
    await writer.append('weights.bin', randomBytes(MIB, 20));
    // Not "written": the bytes past the quota are not there, so nothing may be committed over them.
    await expectCode(writer.append('weights.bin', randomBytes(2 * MIB, 21)), 'quota-exceeded', /refused to store more/);
    expect(folders()).toEqual([]);
    expect(await store.list()).toEqual([]);
  });

  it('reports usage and persistence', async () => {
    const { storage, store } = setup({ writeLimit: 1024 * MIB });
    await writeEntry(store, key, randomBytes(98, 22));
    const usage = await store.usage();
    expect(usage).toEqual({ usedBytes: 100, quotaBytes: 1024 * MIB, availableBytes: 1024 * MIB - storage.usedBytes(), persisted: false });
    expect(await requestPersistence(storage)).toBe(true);
    expect((await store.usage()).persisted).toBe(true);
  });
});

describe('OpfsCacheStore without OPFS', () => {
  it('says so instead of failing obscurely', async () => {
    const store = new OpfsCacheStore({ storage: { getDirectory: () => Promise.reject(new DOMException('private window', 'SecurityError')) } });
    await expectCode(store.list(), 'unsupported', /SecurityError/);
    expect(await requestPersistence(undefined)).toBe(false);
  });
});
