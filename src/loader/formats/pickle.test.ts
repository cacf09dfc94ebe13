import { describe, expect, it } from 'vitest';
import { EngineError } from '../../errors';
import { expectBadModel, seededRandom } from '../testing/test-support';
import { PickleOrderedDict, PickleTuple, TorchTensor, unpickleTorch } from './pickle';

// Pickles assembled by hand, opcode by opcode (names as in CPython's pickletools).
type Part = string | number | Uint8Array;
/** Strings are raw latin-1 bytes (opcodes and ASCII), numbers single bytes. */
function bytes(...parts: Part[]): Uint8Array {
  const chunks = parts.map((part) =>
    typeof part === 'number' ? Uint8Array.of(part) : typeof part === 'string' ? Uint8Array.from(part, (c) => c.charCodeAt(0)) : part,
  );
  const out = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
const u32 = (n: number) => Uint8Array.of(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24);
const utf8 = (text: string) => new TextEncoder().encode(text);
const BINUNICODE = (text: string) => bytes('X', u32(utf8(text).length), utf8(text));
const SHORT_BINUNICODE = (text: string) => bytes(0x8c, utf8(text).length, utf8(text));
const GLOBAL = (module: string, name: string) => `c${module}\n${name}\n`;
const MEMOIZE = 0x94;
const STACK_GLOBAL = 0x93;

const unpickle = (data: Uint8Array) => () => unpickleTorch(data, 'test.pkl');

/** Protocol 4, the way Python 3.8+ writes it: FRAME, SHORT_BINUNICODE, STACK_GLOBAL, MEMOIZE. */
const protocol4StateDict = bytes(
  0x80, 4, 0x95, new Uint8Array(8), // PROTO 4, FRAME (length ignored)
  SHORT_BINUNICODE('collections'), MEMOIZE, SHORT_BINUNICODE('OrderedDict'), MEMOIZE, STACK_GLOBAL, MEMOIZE, // memo 0-2
  ')R', MEMOIZE, '(', // memo 3: the dict
  SHORT_BINUNICODE('layers.0.weight'), MEMOIZE,
  SHORT_BINUNICODE('torch._utils'), MEMOIZE, SHORT_BINUNICODE('_rebuild_tensor_v2'), MEMOIZE, STACK_GLOBAL, MEMOIZE,
  '((', SHORT_BINUNICODE('storage'), MEMOIZE, SHORT_BINUNICODE('torch'), MEMOIZE, SHORT_BINUNICODE('HalfStorage'), MEMOIZE,
  STACK_GLOBAL, MEMOIZE, SHORT_BINUNICODE('7'), MEMOIZE, SHORT_BINUNICODE('cuda:0'), MEMOIZE, 'M', 0x00, 0x01, 't', MEMOIZE, 'Q',
  'K', 16, 'K', 8, 'K', 30, 0x86, MEMOIZE, 'K', 30, 'K', 1, 0x86, MEMOIZE, 0x89, 'h', 2, ')R', MEMOIZE, 't', MEMOIZE, 'R', MEMOIZE,
  SHORT_BINUNICODE('misc'), MEMOIZE,
  ']', MEMOIZE, '(', 'N', 0x88, 0x89, 'J', u32(-5 >>> 0), 'G', Uint8Array.of(0x3f, 0xf8, 0, 0, 0, 0, 0, 0), 0x8a, 2, 0x00, 0x80,
  BINUNICODE('x'), 'e', 'u', '.',
);

describe('unpickleTorch', () => {
  it('reads a protocol 4 state dict (FRAME, MEMOIZE, STACK_GLOBAL, SETITEMS)', () => {
    const root = unpickleTorch(protocol4StateDict, 'test.pkl');
    expect(root).toBeInstanceOf(PickleOrderedDict);
    const dict = root as PickleOrderedDict;
    expect([...dict.keys()]).toEqual(['layers.0.weight', 'misc']);
    const tensor = dict.get('layers.0.weight') as TorchTensor;
    expect(tensor).toBeInstanceOf(TorchTensor);
    expect(tensor.storage).toMatchObject({ storageType: 'torch.HalfStorage', key: '7', location: 'cuda:0', numel: 256 });
    expect(tensor.storageOffset).toBe(16);
    expect(tensor.size).toEqual([8, 30]);
    expect(tensor.stride).toEqual([30, 1]);
    // NONE, NEWTRUE, NEWFALSE, BININT, BINFLOAT, LONG1 (-32768), BINUNICODE via APPENDS.
    expect(dict.get('misc')).toEqual([null, true, false, -5, 1.5, -32768, 'x']);
  });

  it('reads _rebuild_tensor, _rebuild_parameter, APPEND, list-of-pairs OrderedDict and BUILD', () => {
    const storage = bytes('(', BINUNICODE('storage'), GLOBAL('torch', 'FloatStorage'), BINUNICODE('0'), BINUNICODE('cpu'), 'K', 6, 't', 'Q');
    const tensor = bytes(GLOBAL('torch._utils', '_rebuild_tensor'), '(', storage, 'K', 0, 'K', 6, 0x85, 'K', 1, 0x85, 't', 'R');
    const data = bytes(
      0x80, 2, GLOBAL('collections', 'OrderedDict'), 'q', 0,
      ']', BINUNICODE('a'), tensor, 0x86, 'a', // OrderedDict([('a', tensor)])
      0x85, 'R',
      BINUNICODE('b'), GLOBAL('torch._utils', '_rebuild_parameter'), '(', tensor, 0x88, 'h', 0, ')R', 't', 'R', 's',
      '}', BINUNICODE('_metadata'), 'N', 's', 'b', '.',
    );
    const dict = unpickleTorch(data, 'test.pkl') as PickleOrderedDict;
    expect([...dict.keys()]).toEqual(['a', 'b']);
    for (const value of dict.values()) {
      expect(value).toBeInstanceOf(TorchTensor);
      expect((value as TorchTensor).size).toEqual([6]);
    }
  });

  it('walks a deeply nested pickle without recursion', () => {
    const depth = 100_000;
    const data = bytes(0x80, 2, ']'.repeat(depth), 'a'.repeat(depth - 1), '.');
    const root = unpickleTorch(data, 'test.pkl');
    expect(Array.isArray(root)).toBe(true);
  });

  it.each([
    ['os', 'system'],
    ['posix', 'system'],
    ['builtins', 'eval'],
    ['builtins', 'getattr'],
    ['torch.storage', '_load_from_bytes'],
    ['torch', 'load'],
    ['collections', 'defaultdict'],
  ])('refuses the global %s.%s before anything could call it', async (module, name) => {
    const viaGlobal = bytes(0x80, 2, GLOBAL(module, name), BINUNICODE('touch /tmp/pwned'), 0x85, 'R', '.');
    await expectBadModel(unpickle(viaGlobal), new RegExp(`pickle uses a global not allowed: ${module}\\.${name}`));
    const viaStackGlobal = bytes(0x80, 4, SHORT_BINUNICODE(module), SHORT_BINUNICODE(name), STACK_GLOBAL, ')R.');
    await expectBadModel(unpickle(viaStackGlobal), new RegExp(`not allowed: ${module}\\.${name}`));
  });

  it('refuses to call a storage class', async () => {
    await expectBadModel(unpickle(bytes(0x80, 2, GLOBAL('torch', 'FloatStorage'), ')R.')), /calls torch\.FloatStorage, which is not allowed/);
  });

  it.each([
    [0x69, /opcode not allowed: INST \(0x69\)/],
    [0x81, /opcode not allowed: NEWOBJ \(0x81\)/],
    [0x32, /opcode not allowed: DUP \(0x32\)/],
    [0xff, /opcode not allowed: unknown \(0xff\)/],
    [0x00, /opcode not allowed: unknown \(0x00\)/],
  ])('refuses opcode byte %i', async (opcode, message) => {
    await expectBadModel(unpickle(bytes(0x80, 2, ')', opcode, '.')), message);
  });

  it('refuses truncated pickles', async () => {
    await expectBadModel(unpickle(bytes(0x80, 2, 'X', u32(100), 'abc')), /truncated/);
    await expectBadModel(unpickle(bytes(0x80, 2, '}')), /truncated/);
    await expectBadModel(unpickle(protocol4StateDict.subarray(0, protocol4StateDict.length - 1)), /truncated/);
    await expectBadModel(unpickle(bytes('c', 'os')), /GLOBAL name is not newline-terminated/);
  });

  it('refuses malformed stacks and memo reads', async () => {
    await expectBadModel(unpickle(bytes(0x80, 2, 0x86, '.')), /stack underflow/);
    await expectBadModel(unpickle(bytes(0x80, 2, '(', 'K', 1, 'q', 0, '.')), /stack underflow|malformed stack/);
    await expectBadModel(unpickle(bytes(0x80, 2, 'h', 9, '.')), /memo slot 9, which was never written/);
    await expectBadModel(unpickle(bytes(0x80, 2, ')', ')', '.')), /malformed stack/);
    await expectBadModel(unpickle(bytes(0x80, 2, 'u', '.')), /no MARK/);
    await expectBadModel(unpickle(bytes(0x80, 2, ']', 'K', 1, 'K', 2, 's', '.')), /SETITEM\(S\) on something that is not a dict/);
    await expectBadModel(unpickle(bytes(0x80, 2, '}', 'K', 1, 'a', '.')), /APPEND\(S\) on something that is not a list/);
    await expectBadModel(unpickle(bytes(0x80, 2, '}', '}', 'b', '.')), /BUILD on an object other than an OrderedDict/);
    await expectBadModel(unpickle(bytes(0x80, 2, '}', ']', 'K', 1, 's', '.')), /dict key is not a string or integer/);
  });

  it('refuses bad arguments to whitelisted globals', async () => {
    await expectBadModel(unpickle(bytes(0x80, 2, BINUNICODE('nope'), 'Q', '.')), /persistent id is not a torch storage reference/);
    const rebuild = GLOBAL('torch._utils', '_rebuild_tensor_v2');
    await expectBadModel(unpickle(bytes(0x80, 2, rebuild, 'K', 1, 0x85, 'R', '.')), /_rebuild_tensor_v2 called with unexpected arguments/);
    await expectBadModel(unpickle(bytes(0x80, 2, rebuild, 'K', 1, 'R', '.')), /called without an argument tuple/);
    await expectBadModel(unpickle(bytes(0x80, 2, 'K', 1, ')', 'R', '.')), /calls a non-global/);
  });

  it('refuses unsupported protocols and oversized integers', async () => {
    await expectBadModel(unpickle(bytes(0x80, 6, 'N.')), /protocol 6 is not supported/);
    await expectBadModel(unpickle(bytes(0x80, 2, 0x8a, 9, new Uint8Array(9), '.')), /wider than 64 bits/);
    await expectBadModel(unpickle(bytes(0x80, 2, 0x8a, 8, new Uint8Array(8).fill(0x7f), '.')), /integer too large/);
  });

  it('never throws anything but bad-model on corrupted input', () => {
    const random = seededRandom(42);
    for (let trial = 0; trial < 3000; trial++) {
      const data = protocol4StateDict.slice(0, 1 + Math.floor(random() * protocol4StateDict.length));
      const flips = Math.floor(random() * 4);
      for (let i = 0; i < flips; i++) data[Math.floor(random() * data.length)] = Math.floor(random() * 256);
      let failure: unknown = null;
      try {
        unpickleTorch(data, 'fuzz.pkl');
      } catch (error) {
        failure = error;
      }
      if (failure !== null && !(failure instanceof EngineError && failure.code === 'bad-model')) {
        expect.fail(`trial ${trial}: ${String(failure)}`);
      }
    }
  });

  it('keeps tuples distinct from lists', () => {
    const root = unpickleTorch(bytes(0x80, 2, 'K', 1, 'K', 2, 0x86, '.'), 'test.pkl');
    expect(root).toBeInstanceOf(PickleTuple);
    expect((root as PickleTuple).items).toEqual([1, 2]);
  });
});
