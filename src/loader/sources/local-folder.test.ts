import { mkdir, mkdtemp, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EngineError } from '../../errors';
import { encodeSafetensors } from '../formats/safetensors';
import { expectBadModel, randomTensor } from '../testing/test-support';
import { discoverWeights } from '../weights-index';
import { LocalFolderSource } from './local-folder';
import { MemorySource } from './memory-source';

async function expectCode(action: () => Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await expect(action()).rejects.toSatisfy(
    (error: unknown) => error instanceof EngineError && error.code === code && message.test(error.message),
  );
}

describe('LocalFolderSource', () => {
  let root: string;
  let folder: string;
  let source: LocalFolderSource;

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'local-folder-'));
    folder = path.join(root, 'model');
    await mkdir(path.join(folder, 'sub'), { recursive: true });
    await writeFile(path.join(folder, 'config.json'), '{"hidden_size": 4}');
    await writeFile(path.join(folder, 'sub', 'data.bin'), Uint8Array.from({ length: 100 }, (_, i) => i));
    await writeFile(path.join(root, 'secret.txt'), 'outside');
    source = new LocalFolderSource(folder);
  });

  afterEach(async () => {
    await source.close();
    await rm(root, { recursive: true, force: true });
  });

  it('reports sizes, and null for missing files and folders', async () => {
    expect(await source.size('sub/data.bin')).toBe(100);
    expect(await source.size('missing.bin')).toBeNull();
    expect(await source.size('config.json/nested')).toBeNull();
    expect(await source.size('sub')).toBeNull();
  });

  it('reads byte ranges and text', async () => {
    expect(await source.read('sub/data.bin', 10, 5)).toEqual(Uint8Array.of(10, 11, 12, 13, 14));
    expect(await source.read('sub/data.bin', 95, 5)).toEqual(Uint8Array.of(95, 96, 97, 98, 99));
    expect(await source.read('sub/data.bin', 100, 0)).toEqual(new Uint8Array(0));
    expect(await source.readText('config.json')).toBe('{"hidden_size": 4}');
    expect(await source.readText('missing.json')).toBeNull();
  });

  it('fails a read past the end of the file instead of returning fewer bytes', async () => {
    await expectCode(() => source.read('sub/data.bin', 90, 20), 'integrity-failed', /ends at byte 100, before the requested range \[90, 110\)/);
    await truncate(path.join(folder, 'sub', 'data.bin'), 50); // shrinks under an open handle
    await expectCode(() => source.read('sub/data.bin', 40, 20), 'integrity-failed', /truncated/);
  });

  it('fails a read of a missing file with not-found', async () => {
    await expectCode(() => source.read('missing.bin', 0, 1), 'not-found', /missing\.bin is not in/);
  });

  it('refuses paths that leave the folder', async () => {
    for (const file of ['../secret.txt', 'sub/../../secret.txt', '..', path.join(root, 'secret.txt'), '', 'a\0b']) {
      await expectBadModel(() => source.readText(file), /points outside the model folder/);
      await expectBadModel(() => source.size(file), /points outside the model folder/);
      await expectBadModel(() => source.read(file, 0, 1), /points outside the model folder/);
    }
  });

  it('follows symlinks out of the folder, as a Hugging Face cache snapshot needs', async () => {
    await mkdir(path.join(root, 'blobs'));
    await writeFile(path.join(root, 'blobs', 'abc123'), 'blob bytes');
    await symlink(path.join('..', 'blobs', 'abc123'), path.join(folder, 'tokenizer.json'));
    expect(await source.readText('tokenizer.json')).toBe('blob bytes');
    expect(await source.read('tokenizer.json', 5, 5)).toEqual(new TextEncoder().encode('bytes'));
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(source.read('sub/data.bin', 0, 1, controller.signal)).rejects.toThrow();
    await expect(source.readText('config.json', controller.signal)).rejects.toThrow();
  });

  it('discovers and locates weights in a folder', async () => {
    const tensor = randomTensor('model.norm.weight', 'F32', [7], 1);
    await writeFile(path.join(folder, 'model.safetensors'), encodeSafetensors([tensor]));
    const { tensors } = await discoverWeights(source);
    expect(tensors).toHaveLength(1);
    expect(await source.read(tensors[0].file, tensors[0].offset, tensors[0].byteLength)).toEqual(tensor.data);
  });
});

describe('MemorySource', () => {
  it('serves files by name and refuses reads past the end', async () => {
    const source = new MemorySource({ 'a.bin': Uint8Array.of(1, 2, 3) });
    source.set('b.txt', 'héllo');
    expect(await source.size('a.bin')).toBe(3);
    expect(await source.size('c')).toBeNull();
    expect(await source.read('a.bin', 1, 2)).toEqual(Uint8Array.of(2, 3));
    expect(await source.readText('b.txt')).toBe('héllo');
    expect(await source.readText('c')).toBeNull();
    await expectCode(() => source.read('a.bin', 2, 2), 'integrity-failed', /3 bytes long; bytes \[2, 4\)/);
    await expectCode(() => source.read('c', 0, 1), 'not-found', /c is not in/);
  });

  it('hands out copies', async () => {
    const bytes = Uint8Array.of(1, 2, 3);
    const source = new MemorySource(new Map([['a', bytes]]));
    (await source.read('a', 0, 3)).fill(0);
    expect(bytes).toEqual(Uint8Array.of(1, 2, 3));
  });
});
