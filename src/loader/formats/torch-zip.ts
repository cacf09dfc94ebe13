/**
 * torch.save checkpoints (pytorch_model.bin, torch >= 1.6): a zip whose single top folder (any
 * name: `archive/` from torch 2, the file's stem such as `pytorch_model/` before) holds
 * `data.pkl`, a pickled state dict whose tensors name their storages by key, and one stored
 * (uncompressed) entry `data/<key>` per storage with its raw little-endian bytes.
 * Layout: torch/serialization.py (_save) and caffe2/serialize/inline_container.cc.
 * Only the central directory, data.pkl and one local header per storage are read.
 */

import { SOURCE_DTYPE_BYTES, type FileSource, type SourceDtype, type TensorRecord } from '../types';
import { badModel, elementCount } from './binary';
import { PickleTuple, TorchTensor, unpickleTorch } from './pickle';
import { ZIP_METHOD_STORED, ZipArchive, type ZipEntry } from './zip';

/** A LLaMA-7B data.pkl is about 60 KB; this only refuses absurd ones before inflating them. */
const MAX_PICKLE_BYTES = 64 * 1024 * 1024;

const STORAGE_DTYPES: Record<string, SourceDtype> = {
  'torch.FloatStorage': 'F32',
  'torch.HalfStorage': 'F16',
  'torch.BFloat16Storage': 'BF16',
};

export async function readTorchZipHeader(source: FileSource, file: string, signal?: AbortSignal): Promise<TensorRecord[]> {
  const fileSize = await source.size(file, signal);
  if (fileSize === null) throw badModel(`${file} is missing from ${source.description}`, { file });
  // Before 1.6, torch.save wrote a bare pickle stream, starting with PROTO 2.
  if (fileSize >= 2) {
    const magic = await source.read(file, 0, 2, signal);
    if (magic[0] === 0x80 && magic[1] >= 2 && magic[1] <= 5) {
      throw badModel(`${file} uses the legacy torch.save format; re-save it with torch>=1.6 (or convert it to safetensors)`, {
        file,
      });
    }
  }

  const zip = await ZipArchive.open(source, file, signal);
  const pickles = zip.entries.filter((entry) => /^[^/]+\/data\.pkl$/.test(entry.name));
  if (pickles.length !== 1) {
    const problem = pickles.length === 0 ? 'has no <folder>/data.pkl entry' : 'has more than one <folder>/data.pkl entry';
    throw badModel(`${file} is a zip but not a torch checkpoint: it ${problem}`, { file });
  }
  const prefix = pickles[0].name.slice(0, -'data.pkl'.length);
  const what = `${file}: ${pickles[0].name}`;
  const root = unpickleTorch(await zip.readEntry(pickles[0], MAX_PICKLE_BYTES, signal), what);
  if (!(root instanceof Map)) {
    throw badModel(`${what} holds a ${describe(root)}, not a state dict of tensors`, { file });
  }

  const storageTypes = new Map<string, string>();
  const records: TensorRecord[] = [];
  for (const [name, tensor] of root) {
    if (typeof name !== 'string' || !(tensor instanceof TorchTensor)) {
      throw badModel(`${what}: state dict entry ${JSON.stringify(name)} is a ${describe(tensor)}, not a tensor`, { file });
    }
    const { storage } = tensor;
    const dtype = STORAGE_DTYPES[storage.storageType];
    if (!dtype) {
      throw badModel(
        `${file}: tensor "${name}" is stored as ${storage.storageType}; only float32, float16 and bfloat16 checkpoints are supported`,
        { file, tensor: name },
      );
    }
    // One storage has one element type (torch refuses to save it otherwise).
    if ((storageTypes.get(storage.key) ?? storage.storageType) !== storage.storageType) {
      throw badModel(`${file}: storage ${storage.key} is used with two element types`, { file, tensor: name });
    }
    storageTypes.set(storage.key, storage.storageType);
    if (!isContiguous(tensor.size, tensor.stride)) {
      throw badModel(
        `${file}: tensor "${name}" has strides [${tensor.stride.join(', ')}] for shape [${tensor.size.join(', ')}]; ` +
          'only contiguous (row-major) tensors are supported, re-save with .contiguous()',
        { file, tensor: name },
      );
    }
    const entry = zip.find(`${prefix}data/${storage.key}`);
    if (!entry) {
      throw badModel(`${file}: tensor "${name}" refers to storage ${storage.key}, which has no ${prefix}data/${storage.key} entry`, {
        file,
        tensor: name,
      });
    }
    records.push(await locate(zip, entry, name, dtype, tensor, signal));
  }
  return records;
}

async function locate(
  zip: ZipArchive,
  entry: ZipEntry,
  name: string,
  dtype: SourceDtype,
  tensor: TorchTensor,
  signal?: AbortSignal,
): Promise<TensorRecord> {
  const file = zip.file;
  if (entry.method !== ZIP_METHOD_STORED || entry.flags & 1) {
    throw badModel(`${file}: storage ${entry.name} is compressed or encrypted; torch.save writes it stored, re-save the checkpoint`, {
      file,
    });
  }
  const elementSize = SOURCE_DTYPE_BYTES[dtype];
  const { storage, storageOffset } = tensor;
  const count = elementCount(tensor.size);
  const end = count === null ? Infinity : storageOffset + count;
  // A tensor must lie inside its storage as declared, and the storage inside its zip entry.
  if (end > storage.numel || storage.numel * elementSize > entry.uncompressedSize) {
    throw badModel(
      `${file}: tensor "${name}" (elements [${storageOffset}, ${end}) of a ${storage.numel}-element storage) ` +
        `does not fit in ${entry.name} (${entry.uncompressedSize} bytes)`,
      { file, tensor: name },
    );
  }
  const dataOffset = await zip.dataOffset(entry, signal);
  return {
    name,
    dtype,
    shape: [...tensor.size],
    file,
    offset: dataOffset + storageOffset * elementSize,
    byteLength: (count as number) * elementSize,
  };
}

/**
 * Row-major contiguity as torch's is_contiguous decides it (c10 TensorImpl compute_contiguous):
 * dimensions of size 1 may have any stride, and an empty tensor is contiguous.
 */
export function isContiguous(size: readonly number[], stride: readonly number[]): boolean {
  if (size.includes(0)) return true;
  let expected = 1;
  for (let dim = size.length - 1; dim >= 0; dim--) {
    if (size[dim] === 1) continue;
    if (stride[dim] !== expected) return false;
    expected *= size[dim];
  }
  return true;
}

function describe(value: unknown): string {
  if (value === null) return 'None';
  if (value instanceof PickleTuple) return 'tuple';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') return value.constructor.name;
  return typeof value;
}
