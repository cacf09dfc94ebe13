/**
 * The BPE model of a tokenizer.json ("model": {"type": "BPE"}), as Hugging Face tokenizers runs
 * it (tokenizers/src/models/bpe/model.rs and word.rs) on one pre-tokenized word:
 * - with `ignore_merges` (Llama-3), a word that is itself a vocabulary entry is that one token;
 * - otherwise each character is a symbol (its vocabulary id; byte fallback or the unknown token
 *   when it has none, and dropped when there is neither), and the adjacent pair whose merge has
 *   the lowest rank is merged, leftmost first on ties, until no pair has a merge.
 * The queue and its stale-entry check are word.rs's (an entry counts while the pair at its
 * position still merges into the same token), so even words where two merges make the same
 * token come out as the reference's.
 */
import { EngineError } from '../errors';
import { PriorityQueue } from './priority-queue';

export interface BpeOptions {
  unkToken?: string;
  byteFallback: boolean;
  fuseUnk: boolean;
  ignoreMerges: boolean;
  continuingSubwordPrefix?: string;
  endOfWordSuffix?: string;
}

interface Merge {
  position: number;
  rank: number;
  newId: number;
}

/** word.rs's order: lowest rank first, then the leftmost position. */
const before = (a: Merge, b: Merge) => a.rank < b.rank || (a.rank === b.rank && a.position < b.position);

/**
 * Merges by pair of ids, in an open-addressing hash table of typed arrays: 280k merges load in
 * a fraction of the time a Map with 2^34-sized number keys takes, and look up faster.
 */
class PairTable {
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly rank: Int32Array;
  private readonly newId: Int32Array;
  private readonly mask: number;

  constructor(size: number) {
    let capacity = 16;
    while (capacity < size * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.left = new Int32Array(capacity).fill(-1);
    this.right = new Int32Array(capacity);
    this.rank = new Int32Array(capacity);
    this.newId = new Int32Array(capacity);
  }

  private slot(left: number, right: number): number {
    let slot = (Math.imul(left, 0x9e3779b1) ^ Math.imul(right, 0x85ebca77)) & this.mask;
    while (this.left[slot] !== -1 && (this.left[slot] !== left || this.right[slot] !== right)) slot = (slot + 1) & this.mask;
    return slot;
  }

  set(left: number, right: number, rank: number, newId: number): void {
    const slot = this.slot(left, right);
    this.left[slot] = left;
    this.right[slot] = right;
    this.rank[slot] = rank;
    this.newId[slot] = newId;
  }

  /** The slot of (left, right), or -1 when the pair has no merge. */
  find(left: number, right: number): number {
    const slot = this.slot(left, right);
    return this.left[slot] === -1 ? -1 : slot;
  }

  rankAt(slot: number): number {
    return this.rank[slot];
  }

  newIdAt(slot: number): number {
    return this.newId[slot];
  }
}

const CACHE_LIMIT = 10_000;

export class BpeModel {
  private readonly merges: PairTable;
  private readonly unkId: number | undefined;
  private readonly byteIds: (number | undefined)[] = [];
  /** Recent words' ids, as tokenizers' own cache (only speed: a word always gives the same ids). */
  private readonly cache = new Map<string, number[]>();

  constructor(
    readonly vocabulary: ReadonlyMap<string, number>,
    merges: readonly (readonly [string, string])[],
    private readonly options: BpeOptions,
  ) {
    this.merges = new PairTable(merges.length);
    const prefixLength = options.continuingSubwordPrefix?.length ?? 0;
    merges.forEach(([left, right], rank) => {
      const leftId = vocabulary.get(left);
      const rightId = vocabulary.get(right);
      if (leftId === undefined || rightId === undefined) {
        throw new EngineError('bad-model', `tokenizer.json: merge ${rank} (${JSON.stringify([left, right])}) uses a token that is not in the vocabulary.`);
      }
      const newId = vocabulary.get(left + right.slice(prefixLength));
      if (newId === undefined) {
        throw new EngineError('bad-model', `tokenizer.json: merge ${rank} (${JSON.stringify([left, right])}) makes a token that is not in the vocabulary.`);
      }
      // A pair listed twice keeps its later rank, as the reference's HashMap collect does.
      this.merges.set(leftId, rightId, rank, newId);
    });
    if (options.unkToken !== undefined) this.unkId = vocabulary.get(options.unkToken);
    if (options.byteFallback) {
      for (let byte = 0; byte < 256; byte++) this.byteIds.push(vocabulary.get(`<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`));
    }
  }

  /** Appends the ids of one pre-tokenized word to `output`. */
  tokenize(word: string, output: number[]): void {
    if (word === '') return;
    if (this.options.ignoreMerges) {
      const id = this.vocabulary.get(word);
      if (id !== undefined) {
        output.push(id);
        return;
      }
    }
    let ids = this.cache.get(word);
    if (ids === undefined) {
      ids = this.mergeWord(word);
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(word, ids);
    }
    for (const id of ids) output.push(id);
  }

  private mergeWord(word: string): number[] {
    const { continuingSubwordPrefix: prefix, endOfWordSuffix: suffix, fuseUnk } = this.options;
    const symbols: number[] = [];
    const chars = [...word];
    let pendingUnk = false;
    const flushUnk = () => {
      if (pendingUnk) symbols.push(this.unkId!);
      pendingUnk = false;
    };
    chars.forEach((char, index) => {
      let piece = char;
      if (index > 0 && prefix) piece = prefix + piece;
      if (index === chars.length - 1 && suffix) piece += suffix;
      const id = this.vocabulary.get(piece);
      if (id !== undefined) {
        flushUnk();
        symbols.push(id);
        return;
      }
      if (this.options.byteFallback) {
        const bytes = [...new TextEncoder().encode(piece)].map((byte) => this.byteIds[byte]);
        if (bytes.every((byteId) => byteId !== undefined)) {
          // As the reference: byte pieces go in without flushing a pending unknown token.
          symbols.push(...(bytes as number[]));
          return;
        }
      }
      if (this.options.unkToken !== undefined) {
        if (this.unkId === undefined) throw new EngineError('bad-model', `tokenizer.json: the unknown token ${JSON.stringify(this.options.unkToken)} is not in the vocabulary.`);
        if (!(pendingUnk && fuseUnk)) flushUnk();
        pendingUnk = true;
      }
      // No byte fallback and no unknown token: the character is dropped, as the reference does.
    });
    flushUnk();
    return this.mergeAll(symbols);
  }

  /** word.rs merge_all: symbols in a linked list, merges from a priority queue. */
  private mergeAll(ids: number[]): number[] {
    const count = ids.length;
    if (count < 2) return ids;
    const symbol = Int32Array.from(ids);
    const previous = new Int32Array(count);
    const next = new Int32Array(count);
    const removed = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      previous[i] = i - 1;
      next[i] = i + 1 < count ? i + 1 : -1;
    }
    const queue = new PriorityQueue<Merge>(before);
    const merges = this.merges;
    const candidate = (position: number, left: number, right: number) => {
      const slot = merges.find(left, right);
      if (slot >= 0) queue.push({ position, rank: merges.rankAt(slot), newId: merges.newIdAt(slot) });
    };
    for (let i = 0; i + 1 < count; i++) candidate(i, symbol[i], symbol[i + 1]);

    while (queue.size > 0) {
      const top = queue.pop();
      const position = top.position;
      if (removed[position] || next[position] === -1) continue;
      const right = next[position];
      const current = merges.find(symbol[position], symbol[right]);
      if (current < 0 || merges.newIdAt(current) !== top.newId) continue; // stale
      symbol[position] = top.newId;
      removed[right] = 1;
      next[position] = next[right];
      if (next[right] !== -1) previous[next[right]] = position;
      if (previous[position] >= 0) candidate(previous[position], symbol[previous[position]], symbol[position]);
      if (next[position] !== -1) candidate(position, symbol[position], symbol[next[position]]);
    }
    const out: number[] = [];
    for (let i = 0; i !== -1; i = next[i]) out.push(symbol[i]);
    return out;
  }
}
