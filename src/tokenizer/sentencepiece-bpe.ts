/**
 * sentencepiece's BPE segmentation (bpe_model.cc, Model::SampleEncode with no dropout, and the
 * unknown-piece handling of SentencePieceProcessor::PopulateSentencePieceText), on already
 * normalized text. Both tokenizer.model and tokenizer.json feed it the same SentencePieceModel.
 *
 * Start from one symbol per character (or per user-defined piece, which never merges), then
 * repeatedly merge the adjacent pair whose concatenation is a vocabulary piece with the highest
 * score, the leftmost pair on ties. A priority queue holds every candidate pair; a merge makes
 * at most two new candidates and stale ones are dropped when popped, so n characters cost
 * O(n log n).
 */
import type { SentencePieceModel } from './sentencepiece-model';
import { byteOfPiece } from './sentencepiece-model';
import { PriorityQueue } from './priority-queue';
import { utf8BytesOf } from './utf8';

interface Candidate {
  score: number;
  left: number; // symbol index of the pair's left half
  right: number;
  length: number; // UTF-16 length of the merged piece when the candidate was made
}

/** sentencepiece's SymbolPairComparator: higher score first, then the smaller left index. */
function comesFirst(a: Candidate, b: Candidate): boolean {
  return a.score > b.score || (a.score === b.score && a.left < b.left);
}

export class SentencePieceBpe {
  /** Every piece by its text (ids are unique per text: validateModel checks). */
  private readonly idOfPiece = new Map<string, number>();
  /**
   * Pieces a merge may produce: sentencepiece's `pieces_` map (NORMAL, USER_DEFINED, UNUSED).
   * CONTROL, UNKNOWN and BYTE pieces are never merge results. A piece with a non-finite score
   * (tokenizer.json pieces that no merge produces) is left out too.
   */
  private readonly mergeable = new Map<string, number>();
  private readonly scores: Float64Array;
  private readonly unused: Uint8Array;
  /** User-defined pieces by first UTF-16 unit, longest first: they are matched whole and never merged. */
  private readonly userDefined = new Map<string, string[]>();
  private readonly idOfByte = new Int32Array(256);

  constructor(private readonly model: SentencePieceModel) {
    const { pieces } = model;
    this.scores = new Float64Array(pieces.length);
    this.unused = new Uint8Array(pieces.length);
    this.idOfByte.fill(model.unkId);
    pieces.forEach(({ piece, score, type }, id) => {
      this.idOfPiece.set(piece, id);
      this.scores[id] = score;
      if ((type === 'normal' || type === 'user-defined' || type === 'unused') && Number.isFinite(score)) {
        this.mergeable.set(piece, id);
      }
      if (type === 'unused') this.unused[id] = 1;
      if (type === 'user-defined') {
        const list = this.userDefined.get(piece[0]) ?? [];
        list.push(piece);
        list.sort((a, b) => b.length - a.length);
        this.userDefined.set(piece[0], list);
      }
      if (type === 'byte') this.idOfByte[byteOfPiece(piece)] = id;
    });
  }

  /** Appends the ids of `normalized` (already normalized: "▁" for spaces, dummy prefix added) to `output`. */
  encode(normalized: string, output: number[]): void {
    if (normalized === '') return;
    // Symbols are [start, end) ranges of `normalized` in a doubly linked list; a merged-away
    // symbol has start === end.
    const capacity = normalized.length;
    const start = new Int32Array(capacity);
    const end = new Int32Array(capacity);
    const previous = new Int32Array(capacity);
    const next = new Int32Array(capacity);
    const frozen = new Uint8Array(capacity);
    let count = 0;
    for (let position = 0; position < normalized.length; count++) {
      const match = this.matchUserDefined(normalized, position);
      const code = normalized.charCodeAt(position);
      const isPair = code >= 0xd800 && code <= 0xdbff && position + 1 < normalized.length;
      const length = match ? match.length : isPair ? 2 : 1; // one code point (input is well-formed)
      start[count] = position;
      end[count] = position + length;
      previous[count] = count - 1;
      next[count] = position + length < normalized.length ? count + 1 : -1;
      frozen[count] = match ? 1 : 0;
      position += length;
    }

    const queue = new PriorityQueue<Candidate>(comesFirst);
    // Reverse merges for UNUSED pieces: a merge may pass through an unused piece, which the
    // output then splits back into the halves that made it (bpe_model.cc, `resegment`).
    const reverseMerge = new Map<string, [string, string]>();
    const addCandidate = (left: number, right: number) => {
      if (left === -1 || right === -1 || frozen[left] || frozen[right]) return;
      const piece = normalized.slice(start[left], end[right]);
      const id = this.mergeable.get(piece);
      if (id === undefined) return;
      queue.push({ score: this.scores[id], left, right, length: piece.length });
      if (this.unused[id]) {
        reverseMerge.set(piece, [normalized.slice(start[left], end[left]), normalized.slice(start[right], end[right])]);
      }
    };
    for (let index = 1; index < count; index++) addCandidate(index - 1, index);

    while (queue.size > 0) {
      const { left, right, length } = queue.pop();
      const leftLength = end[left] - start[left];
      const rightLength = end[right] - start[right];
      // Stale: a half was merged away, or grew (then the lengths no longer add up).
      if (leftLength === 0 || rightLength === 0 || leftLength + rightLength !== length) continue;
      end[left] = end[right];
      next[left] = next[right];
      if (next[right] >= 0) previous[next[right]] = left;
      end[right] = start[right];
      addCandidate(previous[left], left);
      addCandidate(left, next[left]);
    }

    let previousWasUnknown = false;
    const emit = (piece: string) => {
      const id = this.idOfPiece.get(piece) ?? this.model.unkId;
      if (this.unused[id]) {
        const halves = reverseMerge.get(piece);
        if (halves) {
          emit(halves[0]);
          emit(halves[1]);
          return;
        }
      }
      const isUnknown = id === this.model.unkId;
      if (isUnknown && this.model.byteFallback) {
        for (const character of piece) {
          for (const byte of utf8BytesOf(character.codePointAt(0)!)) output.push(this.idOfByte[byte]);
        }
      } else if (!(isUnknown && previousWasUnknown)) {
        // Without byte fallback a run of unknown characters is one unknown id.
        output.push(id);
      }
      previousWasUnknown = isUnknown;
    };
    for (let index = 0; index !== -1; index = next[index]) emit(normalized.slice(start[index], end[index]));
  }

  private matchUserDefined(text: string, position: number): string | undefined {
    const candidates = this.userDefined.get(text[position]);
    return candidates?.find((piece) => text.startsWith(piece, position));
  }
}
