/**
 * A strict unpickler for torch state dicts. It knows the opcodes Python's pickler writes for
 * dicts, tuples, strings and numbers at protocols 2-5, and a whitelist of globals, each of which
 * it interprets itself: nothing in a pickle is ever executed. Any other opcode or global is a
 * `bad-model` error. The machine is a loop over bytes with an explicit stack (no recursion), and
 * every read is bounds-checked.
 * References: CPython Lib/pickle.py (_Unpickler) and Lib/pickletools.py (the opcode table);
 * torch/_weights_only_unpickler.py follows the same whitelist idea; torch/_utils.py defines the
 * _rebuild_* functions and torch/serialization.py (_save) the persistent id interpreted below.
 */

import { ByteCursor, badModel, decodeUtf8, isNonNegativeSafeInteger } from './binary';

export class PickleTuple {
  constructor(readonly items: readonly PickleValue[]) {}
}

/** A whitelisted global, held as its dotted name; REDUCE interprets it. */
export class PickleGlobal {
  constructor(readonly name: string) {}
}

/** collections.OrderedDict: the only object BUILD may set state on (torch adds `_metadata`). */
export class PickleOrderedDict extends Map<PickleKey, PickleValue> {}

/** Persistent id ('storage', torch.<Type>Storage, key, location, numel) from torch's _save. */
export class TorchStorage {
  constructor(
    /** Dotted global name, e.g. `torch.HalfStorage`. */
    readonly storageType: string,
    /** Names the zip entry `<archive>/data/<key>`. */
    readonly key: string,
    readonly location: string,
    readonly numel: number,
  ) {}
}

export class TorchTensor {
  constructor(
    readonly storage: TorchStorage,
    readonly storageOffset: number,
    readonly size: readonly number[],
    readonly stride: readonly number[],
  ) {}
}

export type PickleKey = string | number;
export type PickleValue =
  | null
  | boolean
  | number
  | string
  | PickleValue[]
  | PickleTuple
  | Map<PickleKey, PickleValue>
  | PickleGlobal
  | TorchStorage
  | TorchTensor;

const REBUILD_TENSOR_V2 = 'torch._utils._rebuild_tensor_v2';
const REBUILD_TENSOR = 'torch._utils._rebuild_tensor';
const REBUILD_PARAMETER = 'torch._utils._rebuild_parameter';
const ORDERED_DICT = 'collections.OrderedDict';
const CALLABLE_GLOBALS = new Set([ORDERED_DICT, REBUILD_TENSOR_V2, REBUILD_TENSOR, REBUILD_PARAMETER]);
/** Storage classes are only markers inside persistent ids; naming any lets the caller say which dtype it met. */
const STORAGE_GLOBALS = new Set(
  ['Half', 'Float', 'BFloat16', 'Double', 'Long', 'Int', 'Short', 'Char', 'Byte', 'Bool', 'ComplexFloat', 'ComplexDouble']
    .map((type) => `torch.${type}Storage`),
);

/** Names of opcodes Python can write that this unpickler refuses, for readable messages. */
const REFUSED_OPCODE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries({
    i: 'INST', o: 'OBJ', '\x81': 'NEWOBJ', '\x92': 'NEWOBJ_EX', '2': 'DUP', '0': 'POP', '1': 'POP_MARK',
    P: 'PERSID', I: 'INT', L: 'LONG', F: 'FLOAT', S: 'STRING', V: 'UNICODE', T: 'BINSTRING',
    U: 'SHORT_BINSTRING', B: 'BINBYTES', C: 'SHORT_BINBYTES', '\x8e': 'BINBYTES8', '\x96': 'BYTEARRAY8',
    '\x97': 'NEXT_BUFFER', '\x98': 'READONLY_BUFFER', '\x82': 'EXT1', '\x83': 'EXT2', '\x84': 'EXT4',
    '\x8b': 'LONG4', '\x8f': 'ADDITEMS', '\x90': 'EMPTY_SET', '\x91': 'FROZENSET', d: 'DICT', l: 'LIST',
    g: 'GET', p: 'PUT',
  }).map(([char, name]) => [char.charCodeAt(0), name]),
);

/** Unpickles torch's data.pkl. `what` names it in messages (e.g. `pytorch_model.bin: archive/data.pkl`). */
export function unpickleTorch(bytes: Uint8Array, what: string): PickleValue {
  const input = new ByteCursor(bytes, what);
  const stack: PickleValue[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PickleValue>();

  const fail = (message: string) => badModel(`${what}: ${message}`);
  // As in pickle.py, a MARK hides what lies below it.
  const top = (): PickleValue => {
    if (stack.length === 0 || stack.length === marks[marks.length - 1]) throw fail('pickle stack underflow');
    return stack[stack.length - 1];
  };
  const pop = (): PickleValue => {
    top();
    return stack.pop() as PickleValue;
  };
  const popMark = (): PickleValue[] => {
    const mark = marks.pop();
    if (mark === undefined) throw fail('pickle has no MARK to pop to');
    return stack.splice(mark);
  };
  const text = (length: number) => decodeUtf8(input.take(length), `${what}: a string`);
  const line = (): string => {
    const end = input.bytes.indexOf(0x0a, input.at);
    if (end < 0 || end - input.at > 1024) throw fail('GLOBAL name is not newline-terminated');
    return text(end - input.at + 1).slice(0, -1);
  };
  const setItems = (target: PickleValue, items: PickleValue[]) => {
    if (!(target instanceof Map)) throw fail('SETITEM(S) on something that is not a dict');
    for (let i = 0; i + 1 < items.length; i += 2) {
      const key = items[i];
      if (typeof key !== 'string' && typeof key !== 'number') throw fail('dict key is not a string or integer');
      target.set(key, items[i + 1]);
    }
  };
  const appendItems = (target: PickleValue, items: PickleValue[]) => {
    if (!Array.isArray(target)) throw fail('APPEND(S) on something that is not a list');
    for (const item of items) target.push(item);
  };
  const global = (module: string, name: string): PickleGlobal => {
    const dotted = `${module}.${name}`;
    if (!CALLABLE_GLOBALS.has(dotted) && !STORAGE_GLOBALS.has(dotted)) {
      throw fail(`pickle uses a global not allowed: ${dotted}`);
    }
    return new PickleGlobal(dotted);
  };

  for (;;) {
    const opcode = input.u8();
    switch (opcode) {
      case 0x80: { // PROTO
        const protocol = input.u8();
        if (protocol < 2 || protocol > 5) throw fail(`pickle protocol ${protocol} is not supported`);
        break;
      }
      case 0x95: input.u64(); break; // FRAME: a buffering hint, the bytes follow inline
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length !== 0) throw fail('pickle ends with a malformed stack');
        return stack[0];
      case 0x28: marks.push(stack.length); break; // MARK
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push(new PickleTuple([])); break; // EMPTY_TUPLE
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4b: stack.push(input.u8()); break; // BININT1
      case 0x4d: stack.push(input.u16()); break; // BININT2
      case 0x4a: stack.push(input.i32()); break; // BININT
      case 0x8a: stack.push(readLong1(input, fail)); break; // LONG1
      case 0x47: stack.push(input.f64BigEndian()); break; // BINFLOAT
      case 0x58: stack.push(text(input.u32())); break; // BINUNICODE
      case 0x8c: stack.push(text(input.u8())); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(text(input.u64())); break; // BINUNICODE8
      case 0x74: stack.push(new PickleTuple(popMark())); break; // TUPLE
      case 0x85: stack.push(new PickleTuple([pop()])); break; // TUPLE1
      case 0x86: { const b = pop(); const a = pop(); stack.push(new PickleTuple([a, b])); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push(new PickleTuple([a, b, c])); break; } // TUPLE3
      case 0x71: memo.set(input.u8(), top()); break; // BINPUT
      case 0x72: memo.set(input.u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE (index = memo length, as pickle.py)
      case 0x68: case 0x6a: { // BINGET, LONG_BINGET
        const index = opcode === 0x68 ? input.u8() : input.u32();
        if (!memo.has(index)) throw fail(`pickle reads memo slot ${index}, which was never written`);
        stack.push(memo.get(index) as PickleValue);
        break;
      }
      case 0x63: { const module = line(); stack.push(global(module, line())); break; } // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw fail('STACK_GLOBAL needs two strings');
        stack.push(global(module, name));
        break;
      }
      case 0x52: { const args = pop(); stack.push(reduce(pop(), args, fail)); break; } // REDUCE
      case 0x62: { // BUILD: only OrderedDict state (torch's `_metadata`), which the loader does not need
        pop();
        if (!(top() instanceof PickleOrderedDict)) throw fail('BUILD on an object other than an OrderedDict');
        break;
      }
      case 0x73: { const value = pop(); const key = pop(); setItems(top(), [key, value]); break; } // SETITEM
      case 0x75: { // SETITEMS
        const items = popMark();
        if (items.length % 2) throw fail('SETITEMS with an odd item count');
        setItems(top(), items);
        break;
      }
      case 0x61: { const value = pop(); appendItems(top(), [value]); break; } // APPEND
      case 0x65: { const items = popMark(); appendItems(top(), items); break; } // APPENDS
      case 0x51: stack.push(persistentLoad(pop(), fail)); break; // BINPERSID
      default: {
        const name = REFUSED_OPCODE_NAMES[opcode] ?? 'unknown';
        throw fail(`pickle uses an opcode not allowed: ${name} (0x${opcode.toString(16).padStart(2, '0')})`);
      }
    }
  }
}

type Fail = (message: string) => Error;

/** LONG1: n-byte little-endian two's complement; anything beyond 2^53 is not a real size. */
function readLong1(input: ByteCursor, fail: Fail): number {
  const bytes = input.take(input.u8());
  if (bytes.length > 8) throw fail('LONG1 integer wider than 64 bits');
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]);
  if (bytes.length > 0 && bytes[bytes.length - 1] & 0x80) value -= 1n << BigInt(8 * bytes.length);
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER)) {
    throw fail('integer too large for a tensor size or offset');
  }
  return Number(value);
}

/** ('storage', torch.<Type>Storage, key, location, numel), as torch.serialization._save writes it. */
function persistentLoad(pid: PickleValue, fail: Fail): TorchStorage {
  const items = pid instanceof PickleTuple ? pid.items : [];
  const [tag, type, key, location, numel] = items;
  if (
    items.length !== 5 || tag !== 'storage' || !(type instanceof PickleGlobal) || !STORAGE_GLOBALS.has(type.name) ||
    typeof key !== 'string' || typeof location !== 'string' || !isNonNegativeSafeInteger(numel)
  ) {
    throw fail('persistent id is not a torch storage reference');
  }
  return new TorchStorage(type.name, key, location, numel);
}

function intTuple(value: PickleValue): number[] | null {
  if (!(value instanceof PickleTuple)) return null;
  return value.items.every(isNonNegativeSafeInteger) ? (value.items as number[]) : null;
}

/** Interprets a call to a whitelisted global; the arguments are checked, nothing runs. */
function reduce(callable: PickleValue, args: PickleValue, fail: Fail): PickleValue {
  if (!(callable instanceof PickleGlobal) || !CALLABLE_GLOBALS.has(callable.name)) {
    const name = callable instanceof PickleGlobal ? callable.name : 'a non-global';
    throw fail(`pickle calls ${name}, which is not allowed`);
  }
  if (!(args instanceof PickleTuple)) throw fail(`${callable.name} called without an argument tuple`);
  const items = args.items;
  switch (callable.name) {
    case ORDERED_DICT: {
      const dict = new PickleOrderedDict();
      // Python 2 era pickles pass the items as a list of pairs.
      const pairs = items.length === 1 && Array.isArray(items[0]) ? items[0] : items.length === 0 ? [] : null;
      if (pairs === null) throw fail('OrderedDict called with unexpected arguments');
      for (const pair of pairs) {
        const entry = pair instanceof PickleTuple ? pair.items : Array.isArray(pair) ? pair : [];
        if (entry.length !== 2 || (typeof entry[0] !== 'string' && typeof entry[0] !== 'number')) {
          throw fail('OrderedDict item is not a (key, value) pair');
        }
        dict.set(entry[0], entry[1]);
      }
      return dict;
    }
    case REBUILD_TENSOR_V2:
    case REBUILD_TENSOR: {
      // v2: (storage, offset, size, stride, requires_grad, backward_hooks[, metadata]); v1: the first four.
      const arity = callable.name === REBUILD_TENSOR ? [4] : [6, 7];
      const [storage, offset, size, stride] = items;
      const sizes = intTuple(size);
      const strides = intTuple(stride);
      if (
        !arity.includes(items.length) || !(storage instanceof TorchStorage) || !isNonNegativeSafeInteger(offset) ||
        sizes === null || strides === null || sizes.length !== strides.length
      ) {
        throw fail(`${callable.name} called with unexpected arguments`);
      }
      return new TorchTensor(storage, offset, sizes, strides);
    }
    case REBUILD_PARAMETER: {
      // nn.Parameter(data, requires_grad, backward_hooks): the loader only needs the data.
      if (items.length !== 3 || !(items[0] instanceof TorchTensor)) {
        throw fail('_rebuild_parameter called with unexpected arguments');
      }
      return items[0];
    }
  }
  throw fail(`pickle calls ${callable.name}, which is not allowed`);
}
