import { describe, expect, it } from 'vitest';
import { EngineError } from '../../errors';
import { seededRandom } from '../testing/test-support';
import { buildManifest, cacheEntryId, formatBytes, parseManifest, quotaError, refusedWriteError, ROOM_ADVICE, splitFolderName, StoreNotes, type CacheKey } from './cache-store';

const sha = '5f5d1f8a0b8f9c6c5e3c2f9d6a1b0e4d3c2b1a09';

describe('cacheEntryId', () => {
  it('reads as org--name--revision--dtype for ordinary hub repos', () => {
    expect(cacheEntryId({ repo: 'beomi/KoAlpaca-Polyglot-7B', revision: sha, dtype: 'q4' })).toBe(`beomi--KoAlpaca-Polyglot-7B--${sha}--q4`);
    expect(cacheEntryId({ repo: 'lmsys/vicuna-7b-v1.5', revision: 'main', dtype: 'f16' })).toBe('lmsys--vicuna-7b-v1.5--main--f16');
    expect(cacheEntryId({ repo: 'my_org/llama_2.ko', revision: 'local', dtype: 'q4' })).toBe('my_org--llama_2.ko--local--q4');
  });

  it('escapes what would make the split ambiguous or the name unsafe', () => {
    expect(cacheEntryId({ repo: 'org/a--b', revision: 'r', dtype: 'q4' })).toBe('org--a%2D%2Db--r--q4');
    expect(cacheEntryId({ repo: 'org--a/b', revision: 'r', dtype: 'q4' })).toBe('org%2D%2Da--b--r--q4');
    expect(cacheEntryId({ repo: 'local-model', revision: 'local', dtype: 'q4.0' })).toBe('local-model--local--q4%2E0');
    expect(cacheEntryId({ repo: '.hidden/-x-', revision: 'v1.', dtype: 'q4' })).toBe('%2Ehidden--%2Dx%2D--v1%2E--q4');
    expect(cacheEntryId({ repo: 'a/b/c', revision: 'refs/pr/1', dtype: 'q4' })).toBe('a--b%2Fc--refs%2Fpr%2F1--q4');
    expect(cacheEntryId({ repo: 'org/모델', revision: 'r', dtype: 'q4' })).toBe('org--%EB%AA%A8%EB%8D%B8--r--q4');
    expect(cacheEntryId({ repo: 'C:\\x/y<z>', revision: '100%', dtype: 'q 4' })).toBe('C%3A%5Cx--y%3Cz%3E--100%25--q%204');
  });

  it('is unique: no two of thousands of adversarial keys share an id', () => {
    const random = seededRandom(7);
    const alphabet = ['a', 'B', '-', '.', '/', '_', '%', '~', '2', 'D'];
    const part = () => Array.from({ length: 1 + Math.floor(random() * 5) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    const seen = new Map<string, string>();
    for (let i = 0; i < 20_000; i++) {
      const key: CacheKey = { repo: part(), revision: part(), dtype: part() };
      const id = cacheEntryId(key);
      const text = JSON.stringify(key);
      expect(seen.get(id) ?? text).toBe(text);
      seen.set(id, text);
      expect(id).toMatch(/^[A-Za-z0-9_%~][A-Za-z0-9._%~-]*[A-Za-z0-9_%~]$/);
      expect(splitFolderName(id)).toEqual({ id, suffix: '' });
      expect(splitFolderName(`${id}.partial-lz5k3m2p-abc123`)).toEqual({ id, suffix: 'partial-lz5k3m2p-abc123' });
    }
  });

  it('shortens very long ids with a hash, still unique and still splittable', () => {
    const long = (end: string) => ({ repo: `org/${'x'.repeat(300)}${end}`, revision: sha, dtype: 'q4' });
    const a = cacheEntryId(long('a'));
    const b = cacheEntryId(long('b'));
    expect(a.length).toBeLessThanOrEqual(160);
    expect(a).not.toBe(b);
    expect(a).toBe(cacheEntryId(long('a')));
    expect(splitFolderName(`${a}.lz5k3m2p-abc123`)).toEqual({ id: a, suffix: 'lz5k3m2p-abc123' });
  });

  it('refuses empty parts', () => {
    expect(() => cacheEntryId({ repo: '', revision: sha, dtype: 'q4' })).toThrow(EngineError);
    expect(() => cacheEntryId({ repo: 'a/b', revision: '', dtype: 'q4' })).toThrow(/non-empty revision/);
  });

  it('does not take other folders for entries', () => {
    expect(splitFolderName('models')).toBeNull();
    expect(splitFolderName('a--b')).toBeNull();
    expect(splitFolderName('my folder--x--y')).toBeNull();
  });
});

describe('manifest', () => {
  const key: CacheKey = { repo: 'org/model', revision: sha, dtype: 'q4' };
  const good = () =>
    buildManifest(key, { key, sources: { 'model.safetensors': { etag: '"e1"', size: 10 } }, extra: { layout: [1] } }, new Map([
      ['weights.bin', 100],
      ['config.json', 5],
    ]), new Date('2026-01-02T03:04:05Z'));

  it('round-trips what a writer builds', () => {
    const manifest = good();
    expect(manifest).toEqual({
      version: 1,
      key,
      createdAt: '2026-01-02T03:04:05.000Z',
      sources: { 'model.safetensors': { etag: '"e1"', size: 10 } },
      files: { 'config.json': { size: 5 }, 'weights.bin': { size: 100 } },
      totalBytes: 105,
      extra: { layout: [1] },
    });
    expect(parseManifest(JSON.stringify(manifest))).toEqual(manifest);
  });

  it('rejects anything this version did not write', () => {
    const variants: ((m: Record<string, unknown>) => void)[] = [
      (m) => (m.version = 2),
      (m) => delete m.extra,
      (m) => (m.totalBytes = 104),
      (m) => (m.files = { 'weights.bin': { size: -1 } }),
      (m) => (m.files = { '../escape': { size: 0 } }),
      (m) => (m.files = { 'manifest.json': { size: 0 } }),
      (m) => (m.key = { repo: 'org/model', revision: sha }),
      (m) => (m.createdAt = 'yesterday'),
      (m) => (m.sources = { x: { size: 1, etag: 5 } }),
    ];
    for (const change of variants) {
      const manifest = JSON.parse(JSON.stringify(good())) as Record<string, unknown>;
      change(manifest);
      expect(parseManifest(JSON.stringify(manifest))).toBeNull();
    }
    expect(parseManifest('{"version": 1, "key":')).toBeNull();
    expect(parseManifest('[]')).toBeNull();
  });

  it('refuses to commit under another key', () => {
    expect(() => buildManifest(key, { key: { ...key, dtype: 'f16' }, sources: {}, extra: null }, new Map(), new Date())).toThrow(/committed with key/);
  });
});

describe('quotaError', () => {
  it('says how much is needed and available', () => {
    const error = quotaError({ repo: 'org/model', revision: sha, dtype: 'q4' }, 4_187_593_113, 1_288_490_189, '/cache');
    expect(error.code).toBe('quota-exceeded');
    expect(error.message).toContain('needs 3.9 GiB of free space in /cache, but only 1.2 GiB is available');
    expect(error.detail).toEqual({ needed: 4_187_593_113, available: 1_288_490_189 });
    expect(formatBytes(200 * 1024 * 1024)).toBe('200.0 MiB');
  });
});

describe('refusedWriteError', () => {
  const key: CacheKey = { repo: 'org/model', revision: sha, dtype: 'q4' };
  const refusal = new DOMException('The quota has been exceeded.', 'QuotaExceededError');

  it('gives the figures only when they agree', () => {
    const agreeing = refusedWriteError(key, 500 * 1024 ** 2, 100 * 1024 ** 2, "this site's browser storage", ROOM_ADVICE.browser, refusal);
    expect(agreeing.message).toContain('needs 500.0 MiB of free space in this site\'s browser storage, but only 100.0 MiB is available');
    expect(agreeing.detail).toEqual({ needed: 500 * 1024 ** 2, available: 100 * 1024 ** 2, refused: true });

    for (const available of [10 * 1024 ** 3, undefined]) {
      const contradicted = refusedWriteError(key, 500 * 1024 ** 2, available, "this site's browser storage", ROOM_ADVICE.browser, refusal);
      expect(contradicted.code).toBe('quota-exceeded');
      expect(contradicted.message).toMatch(/^This site's browser storage refused to store more of org\/model \(QuotaExceededError\), so the model runs without being cached\./);
      expect(contradicted.message).toContain(ROOM_ADVICE.browser);
      expect(contradicted.message).not.toMatch(/MiB|GiB|is available/);
      expect(contradicted.detail).toEqual({ needed: 500 * 1024 ** 2, refused: true });
    }
  });
});

describe('StoreNotes', () => {
  const key: CacheKey = { repo: 'org/model', revision: 'main', dtype: 'q4' };

  it('keeps the first damage found until a load takes it or the entry is committed anew', () => {
    const notes = new StoreNotes();
    notes.noteDamage(cacheEntryId(key), 'weights.bin holds 10 bytes of the 20 bytes its manifest lists');
    notes.noteDamage(cacheEntryId(key), 'config.json is missing'); // a look racing the removal
    expect(notes.takeDamage(key)).toBe('weights.bin holds 10 bytes of the 20 bytes its manifest lists');
    expect(notes.takeDamage(key)).toBeUndefined();
    notes.noteDamage(cacheEntryId(key), 'weights.bin is missing');
    notes.committed(cacheEntryId(key));
    expect(notes.takeDamage(key)).toBeUndefined();
  });

  it('forgets a refused write once the room changes', () => {
    const notes = new StoreNotes();
    notes.noteRefusedWrite();
    expect(notes.writeRefused()).toBe(true);
    notes.roomChanged();
    expect(notes.writeRefused()).toBe(false);
  });
});
