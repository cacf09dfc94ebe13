/**
 * Writes a checkpoint the way `torch.save(model.state_dict(), f)` does (tests and fixtures only),
 * so the reader is tested on the real layout. The pickle mirrors CPython's protocol-2 Pickler:
 * every string, tuple, dict and global is memoized with BINPUT and met again through BINGET; the
 * state dict is `collections.OrderedDict()` (REDUCE) filled by SETITEMS in batches of 1000,
 * then BUILD with `{'_metadata': OrderedDict}`; each tensor is a REDUCE of
 * torch._utils._rebuild_tensor_v2 on (BINPERSID storage, offset, size, stride, False,
 * OrderedDict()). Checked against pickletools' disassembly of a real torch 1.x checkpoint.
 * Records follow torch 2's _save: data.pkl, .format_version, .storage_alignment, byteorder,
 * data/<key>..., then the stream writer's version and .data/serialization_id.
 */

import type { SourceDtype } from '../types';
import type { TensorToEncode } from '../formats/safetensors';
import { ByteWriter, writeZip, type ZipEntryToWrite } from './zip-writer';

export interface TorchZipOptions {
  /** Top folder of every entry: `archive` from torch 2, the file's stem (`pytorch_model`) before. */
  archiveName?: string;
  /** [a, b]: b's bytes go into a's storage, after a's (and after earlier tensors shared with a). */
  shareStorageFor?: [string, string][];
  /** Test knobs that real torch.save never produces for contiguous float tensors. */
  overrides?: Record<string, { stride?: number[]; storageType?: string }>;
  /** Write data.pkl deflated (method 8) with this raw-deflate function. */
  deflatePickle?: (bytes: Uint8Array) => Uint8Array;
  zip64Extras?: boolean;
}

const STORAGE_TYPES: Record<SourceDtype, string> = { F32: 'FloatStorage', F16: 'HalfStorage', BF16: 'BFloat16Storage' };

interface Placement {
  key: string;
  /** In elements. */
  offset: number;
}

/** A tensor as torch.save lays it out: everything but its bytes. */
export type TensorSpec = Pick<TensorToEncode, 'name' | 'dtype' | 'shape'>;

/** One zip entry of a torch checkpoint: its bytes, or (a storage) the tensors whose bytes fill it, in order. */
export type TorchZipEntry = { name: string; data: Uint8Array; deflated?: Uint8Array } | { name: string; tensors: string[] };

export function encodeTorchZip(tensors: TensorToEncode[], options: TorchZipOptions = {}): Uint8Array {
  const data = new Map(tensors.map((tensor) => [tensor.name, tensor.data]));
  const entries = torchZipEntries(tensors, options).map((entry): ZipEntryToWrite => {
    if ('data' in entry) return entry;
    const bytes = new ByteWriter();
    for (const name of entry.tensors) bytes.bytes(data.get(name)!);
    return { name: entry.name, data: bytes.finish() };
  });
  return writeZip(entries, { zip64Extras: options.zip64Extras });
}

/** The entries torch.save writes for `tensors`, in its order (a file writer streams the storages' bytes). */
export function torchZipEntries(tensors: TensorSpec[], options: TorchZipOptions = {}): TorchZipEntry[] {
  const archive = options.archiveName ?? 'archive';
  // Storage keys are numbered in order of first use, as _save's id_map does.
  const storages = new Map<string, { dtype: SourceDtype; tensors: string[]; numel: number }>();
  const placements = new Map<string, Placement>();
  const owner = new Map(options.shareStorageFor?.map(([first, second]) => [second, first]));
  for (const tensor of tensors) {
    const host = owner.get(tensor.name);
    const hostPlacement = host === undefined ? undefined : placements.get(host);
    if (host !== undefined && !hostPlacement) throw new Error(`encodeTorchZip: ${host} must come before ${tensor.name}`);
    const key = hostPlacement?.key ?? String(storages.size);
    const storage = storages.get(key) ?? { dtype: tensor.dtype, tensors: [], numel: 0 };
    if (storage.dtype !== tensor.dtype) throw new Error(`encodeTorchZip: ${tensor.name} changes its storage's dtype`);
    placements.set(tensor.name, { key, offset: storage.numel });
    storage.tensors.push(tensor.name);
    storage.numel += tensor.shape.reduce((a, b) => a * b, 1);
    storages.set(key, storage);
  }

  const pickle = new PickleWriter();
  pickle.proto(2);
  pickle.reduce(() => pickle.global('collections', 'OrderedDict'), () => pickle.emptyTuple());
  pickle.setItems(tensors, (tensor) => {
    pickle.string(tensor.name);
    const { key, offset } = placements.get(tensor.name) as Placement;
    const override = options.overrides?.[tensor.name];
    const storageType = override?.storageType ?? STORAGE_TYPES[tensor.dtype];
    pickle.reduce(
      () => pickle.global('torch._utils', '_rebuild_tensor_v2'),
      () =>
        pickle.tuple(() => {
          pickle.tuple(() => {
            pickle.string('storage', 'storage');
            pickle.global('torch', storageType);
            pickle.string(key, `key:${key}`);
            pickle.string('cpu', 'cpu');
            pickle.int((storages.get(key) as { numel: number }).numel);
          }, 5);
          pickle.persistentId();
          pickle.int(offset);
          pickle.ints(tensor.shape);
          pickle.ints(override?.stride ?? rowMajorStrides(tensor.shape));
          pickle.op(0x89); // NEWFALSE: requires_grad
          pickle.reduce(() => pickle.global('collections', 'OrderedDict'), () => pickle.emptyTuple()); // backward hooks
        }, 6),
    );
  });
  // BUILD sets the state dict's `_metadata`: one {'version': 1} per module prefix.
  pickle.dict([['_metadata', null]], () => {
    pickle.reduce(() => pickle.global('collections', 'OrderedDict'), () => pickle.emptyTuple());
    pickle.setItems(modulePrefixes(tensors.map((tensor) => tensor.name)), (prefix) => {
      pickle.string(prefix);
      pickle.dict([['version', 1]]);
    });
  });
  pickle.op(0x62).op(0x2e); // BUILD, STOP

  const data = pickle.finish();
  const text = (value: string) => new TextEncoder().encode(value);
  return [
    { name: `${archive}/data.pkl`, data, ...(options.deflatePickle ? { deflated: options.deflatePickle(data) } : {}) },
    { name: `${archive}/.format_version`, data: text('1') },
    { name: `${archive}/.storage_alignment`, data: text('64') },
    { name: `${archive}/byteorder`, data: text('little') },
    ...[...storages].map(([key, storage]) => ({ name: `${archive}/data/${key}`, tensors: storage.tensors })),
    { name: `${archive}/version`, data: text('3\n') },
    { name: `${archive}/.data/serialization_id`, data: text('0'.repeat(40)) },
  ];
}

export function rowMajorStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let dim = shape.length - 1; dim >= 0; dim--) {
    strides[dim] = stride;
    stride *= shape[dim];
  }
  return strides;
}

/** '' then every dotted prefix of the tensors' module paths, in first-seen order (named_modules order). */
function modulePrefixes(names: string[]): string[] {
  const prefixes = new Set<string>(['']);
  for (const name of names) {
    const parts = name.split('.').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) prefixes.add(parts.slice(0, i).join('.'));
  }
  return [...prefixes];
}

/** The subset of CPython's protocol-2 Pickler that a state dict needs, memo included. */
class PickleWriter {
  private readonly out = new ByteWriter();
  private readonly memo = new Map<string, number>();
  private memoSize = 0;

  op(code: number): this {
    this.out.u8(code);
    return this;
  }
  proto(version: number): void {
    this.op(0x80).op(version);
  }
  /** BINPUT (or LONG_BINPUT past 255) of the object just written; `identity` lets later uses BINGET it. */
  private put(identity?: string): void {
    const index = this.memoSize++;
    if (identity !== undefined) this.memo.set(identity, index);
    if (index < 256) this.op(0x71).op(index);
    else this.op(0x72).out.u32(index);
  }
  /** BINGET of an already memoized object; false if there is none. */
  private get(identity: string): boolean {
    const index = this.memo.get(identity);
    if (index === undefined) return false;
    if (index < 256) this.op(0x68).op(index);
    else this.op(0x6a).out.u32(index);
    return true;
  }
  /** BINUNICODE. Python memoizes each str object: `identity` marks one string object used twice. */
  string(value: string, identity?: string): void {
    if (identity !== undefined && this.get(`str:${identity}`)) return;
    const bytes = new TextEncoder().encode(value);
    this.op(0x58).out.u32(bytes.length).bytes(bytes);
    this.put(identity === undefined ? undefined : `str:${identity}`);
  }
  global(module: string, name: string): void {
    const identity = `global:${module}.${name}`;
    if (this.get(identity)) return;
    this.op(0x63).out.bytes(new TextEncoder().encode(`${module}\n${name}\n`));
    this.put(identity);
  }
  int(value: number): void {
    if (value >= 0 && value < 256) this.op(0x4b).op(value); // BININT1
    else if (value >= 0 && value < 65536) this.op(0x4d).out.u16(value); // BININT2
    else if (value >= -(2 ** 31) && value < 2 ** 31) this.op(0x4a).out.i32(value); // BININT
    else throw new Error('PickleWriter: LONG1 integers are not needed by the tests');
  }
  emptyTuple(): void {
    this.op(0x29); // EMPTY_TUPLE is a singleton: never memoized
  }
  /** Tuples of 1-3 items use TUPLE1-3, longer ones MARK ... TUPLE. */
  tuple(items: () => void, length: number): void {
    if (length === 0) return this.emptyTuple();
    if (length > 3) this.op(0x28);
    items();
    this.op(length > 3 ? 0x74 : [0, 0x85, 0x86, 0x87][length]);
    this.put();
  }
  ints(values: readonly number[]): void {
    this.tuple(() => values.forEach((value) => this.int(value)), values.length);
  }
  reduce(callable: () => void, args: () => void): void {
    callable();
    args();
    this.op(0x52);
    this.put();
  }
  persistentId(): void {
    this.op(0x51);
  }
  /** A batch of dict items: SETITEM for one, MARK ... SETITEMS for more, 1000 per batch. */
  setItems<T>(items: readonly T[], write: (item: T) => void): void {
    for (let start = 0; start < items.length; start += 1000) {
      const batch = items.slice(start, start + 1000);
      if (batch.length > 1) this.op(0x28);
      batch.forEach(write);
      this.op(batch.length > 1 ? 0x75 : 0x73);
    }
  }
  /** EMPTY_DICT filled with string keys and small-int values (or one value written by `value`). */
  dict(items: [string, number | null][], value?: () => void): void {
    this.op(0x7d);
    this.put();
    this.setItems(items, ([key, item]) => {
      this.string(key, key);
      if (item === null) value?.();
      else this.int(item);
    });
  }
  finish(): Uint8Array {
    return this.out.finish();
  }
}
