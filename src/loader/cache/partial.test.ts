/**
 * Resumable partial entries (journal.ts), the same suite on both stores: the Node cache folder
 * and OPFS (the in-memory fake, as in a worker). A "crash" leaves the files as a killed writer
 * would: bytes past the last checkpoint on disk, handles gone (OPFS: the browser drops the
 * worker's locks; Node: the lock file names a process that no longer exists).
 */

import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { expectCode, randomBytes, sameBytes } from '../testing/test-support';
import { cacheEntryId, type CacheKey, type CacheStore, type ResumableWriter } from './cache-store';
import { FakeDirectory, FakeFile, FakeStorage } from '../testing/fake-opfs';
import { JOURNAL_FILE, parseJournal, RESUMABLE_KEEP_MS } from './journal';
import { NodeCacheStore } from './node-cache';
import { OpfsCacheStore } from './opfs-cache';

const key: CacheKey = { repo: 'ureca07/korean-vicuna-7b-1.1', revision: 'main', dtype: 'q4' };
const header = { commit: 'a'.repeat(40), layout: 'f00d' };
const HOUR = 60 * 60 * 1000;
const encoder = new TextEncoder();

interface Harness {
  /** A store as a new process or worker sees it, `laterMs` from now. */
  store(laterMs?: number): CacheStore;
  /** Kills `writer` as a crash would (its files stay as they are). */
  crash(writer: ResumableWriter): Promise<void>;
  folders(): Promise<string[]>;
  /** Appends raw bytes to a partial's journal (a torn write). */
  tearJournal(folder: string, text: string): Promise<void>;
  cleanup(): Promise<void>;
}

/** A pid no process has now: a child that ran and exited. */
const deadPid = (() => {
  let pid: number | undefined;
  return () => (pid ??= spawnSync(process.execPath, ['-e', '0']).pid!);
})();

async function nodeHarness(): Promise<Harness> {
  const root = await mkdtemp(path.join(tmpdir(), 'partial-'));
  return {
    store: (laterMs = 0) => new NodeCacheStore(root, { now: () => Date.now() + laterMs }),
    crash: async (writer) => {
      const folder = (await readdir(root)).find((name) => name.includes('.partial-'))!;
      await writer.suspend(); // closes this process's handles...
      await writeFile(path.join(root, folder, '.lock'), `${deadPid()}\n${(await import('node:os')).hostname()}\n`); // ...as a dead process's lock
    },
    folders: async () => (await readdir(root)).sort(),
    tearJournal: (folder, text) => appendFile(path.join(root, folder, JOURNAL_FILE), text),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

function opfsHarness(): Harness {
  let time = Date.parse('2026-03-01T00:00:00Z');
  const storage = new FakeStorage({ clock: () => time });
  const models = () => storage.root.children.get('models') as FakeDirectory | undefined;
  return {
    store: (laterMs = 0) => {
      time += laterMs;
      return new OpfsCacheStore({ storage, now: () => time });
    },
    crash: async () => storage.crash(),
    folders: async () => [...(models()?.children.keys() ?? [])].sort(),
    tearJournal: async (folder, text) => {
      const file = (models()!.children.get(folder) as FakeDirectory).children.get(JOURNAL_FILE) as FakeFile;
      file.writeAt(encoder.encode(text), file.size);
    },
    cleanup: async () => undefined,
  };
}

describe.each([
  ['Node cache folder', nodeHarness],
  ['OPFS (worker)', async () => opfsHarness()],
])('resumable partial entries: %s', (_, makeHarness) => {
  let harness: Harness;
  afterEach(async () => harness?.cleanup());

  it('a crash keeps every checkpointed byte and drops the rest; the next writer continues and commits one entry', async () => {
    harness = await makeHarness();
    const [a, b, lost, c] = [randomBytes(70_001, 1), randomBytes(50_003, 2), randomBytes(9_999, 3), randomBytes(30_007, 4)];
    const first = await harness.store().resume(key, 200_000, header);
    expect(first).toMatchObject({ records: [], resumedBytes: 0 });
    expect(first.writer.resumable).toBe(true);
    await first.writer.append('weights.bin', a);
    await first.writer.checkpoint({ buffer: 'a' });
    await first.writer.append('weights.bin', b);
    await first.writer.checkpoint({ buffer: 'b' });
    await first.writer.append('weights.bin', lost); // never checkpointed
    await harness.crash(first.writer);

    const store = harness.store(2 * HOUR); // the next morning's process: a resumable partial is not debris
    expect(await store.list()).toEqual([]);
    const [partial] = await store.partials();
    expect(partial).toMatchObject({ key, bytes: a.length + b.length, expectedBytes: 200_000, live: false });
    expect((await store.usage()).usedBytes).toBe(a.length + b.length); // what it holds counts as used
    const second = await store.resume(key, 200_000, header);
    expect(second.records).toEqual([{ buffer: 'a' }, { buffer: 'b' }]);
    expect(second.resumedBytes).toBe(a.length + b.length);
    expect(second.writer.size('weights.bin')).toBe(a.length + b.length);
    expect(sameBytes(await second.writer.read('weights.bin', 0, a.length + b.length), new Uint8Array([...a, ...b]))).toBe(true);
    await second.writer.append('weights.bin', c);
    await second.writer.checkpoint({ buffer: 'c' });
    await second.writer.append('config.json', encoder.encode('{}'));
    await second.writer.commit({ key, sources: {}, extra: { done: true } });

    const opened = await store.open(key);
    expect(opened?.entry.manifest.files).toEqual({ 'weights.bin': { size: a.length + b.length + c.length }, 'config.json': { size: 2 } });
    expect(sameBytes(await opened!.files.read('weights.bin', 0, a.length + b.length + c.length), new Uint8Array([...a, ...b, ...c]))).toBe(true);
    await (opened!.files as { close?(): Promise<void> }).close?.();
    expect(await store.partials()).toEqual([]);
    expect(await harness.folders()).toHaveLength(1);
  });

  it('another header (a new commit, another layout) starts afresh and removes the old partial', async () => {
    harness = await makeHarness();
    const old = await harness.store().resume(key, 1000, header);
    await old.writer.append('weights.bin', randomBytes(100, 5));
    await old.writer.checkpoint(1);
    await harness.crash(old.writer);
    const fresh = await harness.store().resume(key, 1000, { ...header, commit: 'b'.repeat(40) });
    expect(fresh).toMatchObject({ records: [], resumedBytes: 0 });
    expect(await harness.folders()).toHaveLength(1);
    await fresh.writer.suspend();
    // Another dtype is another key: its partial lives beside this one.
    const f16 = await harness.store().resume({ ...key, dtype: 'f16' }, 1000, header);
    await f16.writer.suspend();
    expect((await harness.store().partials()).map((p) => p.key.dtype).sort()).toEqual(['f16', 'q4']);
  });

  it('a partial a live writer holds is neither taken, listed as debris, nor deletable; a second writer starts its own', async () => {
    harness = await makeHarness();
    const store = harness.store();
    const live = await store.resume(key, 1000, header);
    await live.writer.append('weights.bin', randomBytes(10, 6));
    await live.writer.checkpoint(1);
    const other = await harness.store(40 * 24 * HOUR).resume(key, 1000, header); // even 40 days on
    expect(other.records).toEqual([]);
    expect(await harness.folders()).toHaveLength(2);
    const [livePartial] = (await store.partials()).filter((p) => p.live);
    await expectCode(store.delete(livePartial.id), 'bad-input');
    await other.writer.abort();
    await live.writer.suspend();
    expect(await harness.folders()).toHaveLength(1);
  });

  it('a torn journal line is ignored; suspend keeps the partial; delete removes it by its id', async () => {
    harness = await makeHarness();
    const first = await harness.store().resume(key, 1000, header);
    await first.writer.append('weights.bin', randomBytes(64, 7));
    await first.writer.checkpoint({ n: 1 });
    await first.writer.suspend();
    const [folder] = await harness.folders();
    await harness.tearJournal(folder, '{"sizes":{"weights.bin":99');
    const second = await harness.store().resume(key, 1000, header);
    expect(second).toMatchObject({ records: [{ n: 1 }], resumedBytes: 64 });
    await second.writer.checkpoint({ n: 2 }); // written after the torn bytes were cut off
    await second.writer.suspend();
    const store = harness.store();
    const [partial] = await store.partials();
    expect(partial.id).toBe(folder);
    expect(partial.id.startsWith(cacheEntryId(key))).toBe(true);
    const third = await store.resume(key, 1000, header);
    expect(third.records).toEqual([{ n: 1 }, { n: 2 }]);
    await third.writer.suspend();
  });

  it('abandoned partials go: without a journal after an hour, with one after RESUMABLE_KEEP_MS', async () => {
    harness = await makeHarness();
    const resumable = await harness.store().resume(key, 1000, header);
    await resumable.writer.append('weights.bin', randomBytes(10, 8));
    await resumable.writer.checkpoint(1);
    const plain = await harness.store().create({ ...key, dtype: 'f16' }, 1000);
    await plain.append('weights.bin', randomBytes(10, 9));
    await harness.crash(resumable.writer); // both writers die
    await harness.store(2 * HOUR).list();
    expect(await harness.folders()).toHaveLength(1); // the plain writer's folder went (its writer crashed too)
    await harness.store(RESUMABLE_KEEP_MS).list();
    expect(await harness.folders()).toEqual([]);
    await plain.abort().catch(() => undefined);
  });

  it('refuses early when what is left does not fit, keeping the partial', async () => {
    harness = await makeHarness();
    const first = await harness.store().resume(key, 1000, header);
    await first.writer.checkpoint(0);
    await first.writer.suspend();
    await expectCode(harness.store().resume(key, 2 ** 52, header), 'quota-exceeded');
    expect(await harness.folders()).toHaveLength(1);
    const again = await harness.store().resume(key, 1000, header);
    expect(again.records).toEqual([0]);
    await again.writer.suspend();
  });
});

describe('journal format', () => {
  it('reads the head and every whole checkpoint line, stopping at the first damaged one', () => {
    const lines = [
      JSON.stringify({ version: 1, key, expectedBytes: 10, header }),
      JSON.stringify({ sizes: { 'weights.bin': 4 }, record: 'a' }),
      JSON.stringify({ sizes: { 'weights.bin': 3 }, record: 'shrank' }), // files only grow: damaged
      JSON.stringify({ sizes: { 'weights.bin': 8 }, record: 'after' }),
    ];
    const journal = parseJournal(encoder.encode(`${lines.join('\n')}\n`))!;
    expect(journal.checkpoints.map((c) => c.record)).toEqual(['a']);
    expect(journal.validBytes).toBe(lines[0].length + lines[1].length + 2);
    expect(parseJournal(encoder.encode('{"version":2}\n'))).toBeNull();
    expect(parseJournal(encoder.encode(lines[0]))).toBeNull(); // a head without its newline was torn
  });

  it('is read back by the Node store as written', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'journal-'));
    try {
      const { writer } = await new NodeCacheStore(root).resume(key, 10, header);
      await writer.append('weights.bin', randomBytes(5, 10));
      await writer.checkpoint({ key: 'embed' });
      await writer.suspend();
      const [folder] = await readdir(root);
      const journal = parseJournal(new Uint8Array(await readFile(path.join(root, folder, JOURNAL_FILE))))!;
      expect(journal.head).toEqual({ version: 1, key, expectedBytes: 10, header });
      expect(journal.checkpoints).toEqual([{ sizes: { 'weights.bin': 5 }, record: { key: 'embed' } }]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
