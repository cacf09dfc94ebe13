import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { precacheEntries, revisionOf, serviceWorkerScript } from './precache-plugin';

const encode = (text: string) => new TextEncoder().encode(text);

describe('precacheEntries', () => {
  let dir: string;
  const files: Record<string, string> = {
    'index.html': '<!doctype html>',
    'assets/index-AbC123.js': 'console.log(1)',
    'assets/index-AbC123.js.map': '{}',
    'icons/icon-192.png': 'png',
    'manifest.webmanifest': '{}',
    'sw.js': 'old worker',
    '.nojekyll': '',
    '.vite/manifest.json': '{}',
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'precache-'));
    for (const [name, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
      await writeFile(path.join(dir, name), text);
    }
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('lists every file but maps, dotfiles and the worker itself, by relative URL with a hash of its bytes', async () => {
    const entries = await precacheEntries(dir);
    expect(entries).toEqual(
      ['assets/index-AbC123.js', 'icons/icon-192.png', 'index.html', 'manifest.webmanifest'].map((url) => ({ url, revision: revisionOf(encode(files[url])) })),
    );
  });

  it('gives a file a new revision exactly when its bytes change', () => {
    expect(revisionOf(encode('a'))).toBe(revisionOf(encode('a')));
    expect(revisionOf(encode('a'))).not.toBe(revisionOf(encode('b')));
    expect(revisionOf(encode('a'))).toMatch(/^[0-9a-f]{20}$/);
  });
});

describe('serviceWorkerScript', () => {
  it('sets the manifest on self before the worker code runs', () => {
    const manifest = [{ url: 'index.html', revision: 'r1' }];
    const script = serviceWorkerScript(manifest, '(function(){})();');
    const scope: { __PRECACHE_MANIFEST__?: unknown } = {};
    new Function('self', script)(scope);
    expect(scope.__PRECACHE_MANIFEST__).toEqual(manifest);
    expect(script.endsWith('(function(){})();')).toBe(true);
  });
});
