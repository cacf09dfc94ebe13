/**
 * Node only, test support: a torch checkpoint (the layout encodeTorchZip writes) streamed to a
 * file, each tensor's bytes asked for chunk by chunk, so a gigabyte-sized test shard is never
 * held in memory. Returns what the fake hub needs to serve the file from disk.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { torchZipEntries, type TensorSpec, type TorchZipOptions } from './torch-zip-writer';
import { ZipStream } from './zip-writer';

export interface WrittenFile {
  path: string;
  size: number;
  /** Of the contents: the file's LFS object id. */
  sha256: string;
}

/** Writes `tensors` to `path`; `chunks(tensor)` yields each tensor's bytes (any chunking, exactly its size in all). */
export async function writeTorchZipFile(
  path: string,
  tensors: TensorSpec[],
  chunks: (tensor: TensorSpec) => Iterable<Uint8Array>,
  options: TorchZipOptions = {},
): Promise<WrittenFile> {
  const handle = await open(path, 'w');
  const hash = createHash('sha256');
  let size = 0;
  const pending: Uint8Array[] = [];
  const flush = async () => {
    for (const bytes of pending.splice(0)) {
      await handle.write(bytes);
      hash.update(bytes);
      size += bytes.length;
    }
  };
  try {
    const zip = new ZipStream({ zip64Extras: options.zip64Extras, crc: (data, previous) => crc32(data, previous) }, (bytes) => pending.push(bytes));
    const byName = new Map(tensors.map((tensor) => [tensor.name, tensor]));
    for (const entry of torchZipEntries(tensors, options)) {
      zip.begin(entry.name);
      if ('data' in entry) {
        zip.data(entry.data);
      } else {
        for (const name of entry.tensors) {
          for (const chunk of chunks(byName.get(name)!)) {
            zip.data(chunk);
            await flush();
          }
        }
      }
      zip.end();
      await flush();
    }
    zip.finish();
    await flush();
  } finally {
    await handle.close();
  }
  return { path, size, sha256: hash.digest('hex') };
}
