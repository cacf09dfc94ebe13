import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeTorchZip } from './torch-zip-writer';
import { startFakeHub, type FakeHub } from './fake-hub';
import { HubSource } from '../hub/hub-source';
import { randomTensor, sameBytes } from './test-support';
import { readTorchZipHeader } from '../formats/torch-zip';
import { writeTorchZipFile } from './torch-zip-file';

let dir: string;
let hub: FakeHub;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'torch-zip-file-'));
  hub = await startFakeHub();
});
afterAll(async () => {
  await hub.close();
  await rm(dir, { recursive: true, force: true });
});

describe('writeTorchZipFile', () => {
  const tensors = [randomTensor('a.weight', 'F16', [33, 70], 1), randomTensor('b.weight', 'BF16', [5000], 2), randomTensor('c.weight', 'F32', [7, 9], 3)];

  it('streams the very bytes encodeTorchZip makes, whatever the chunking', async () => {
    const file = path.join(dir, 'streamed.bin');
    const chunked = (tensor: { name: string }) => {
      const data = tensors.find((t) => t.name === tensor.name)!.data;
      return Array.from({ length: Math.ceil(data.length / 1000) }, (_, i) => data.subarray(i * 1000, (i + 1) * 1000));
    };
    const written = await writeTorchZipFile(file, tensors, chunked);
    const expected = encodeTorchZip(tensors);
    expect(sameBytes(new Uint8Array(await readFile(file)), expected)).toBe(true);
    expect(written.size).toBe(expected.length);

    // Served from disk by the fake hub (LFS, through the CDN), read by range like any shard.
    hub.addRepo('disk/repo', new Map([['pytorch_model.bin', { path: file, size: written.size, sha256: written.sha256 }]]));
    const before = hub.requests.length;
    const source = new HubSource({ repo: 'disk/repo', endpoint: hub.url });
    const records = await readTorchZipHeader(source, 'pytorch_model.bin');
    const b = records.find((r) => r.name === 'b.weight')!;
    expect(sameBytes(await source.read('pytorch_model.bin', b.offset, b.byteLength), tensors[1].data)).toBe(true);
    // The tensor's bytes came as one range of exactly their length, counted by the hub's log.
    const last = hub.requests.slice(before).filter((r) => r.path.startsWith('/lfs-cdn/')).at(-1)!;
    expect(last).toMatchObject({ status: 206, range: `bytes=${b.offset}-${b.offset + b.byteLength - 1}`, bytes: b.byteLength });
  });
});
