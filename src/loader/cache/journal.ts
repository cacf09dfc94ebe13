/**
 * The journal of a resumable cache entry: what a writer had made durable when it stopped (a page
 * reload, a crash, a killed process), so that the next writer continues from there instead of
 * from zero. It is the file `.journal` in the entry's folder, in JSON lines:
 *
 *   {"version":1,"key":{...},"expectedBytes":N,"header":<the caller's>}        written once, first
 *   {"sizes":{"weights.bin":N,...},"record":<the caller's>}                    one per checkpoint
 *
 * A checkpoint line is appended only after the stored files' bytes are flushed, and says how
 * long each file was then; everything past those sizes (a buffer half-written when the writer
 * died) is cut off on resume. The journal is append-only, so no rename is needed (OPFS has no
 * portable one): a torn last line, or anything after a line that does not parse, is ignored.
 * The header holds whatever the caller needs to match (the engine's: the repo commit, file sizes,
 * weight layout); a partial entry is continued only under the very same header.
 */

import { isStoredFileName, type CacheKey } from './cache-store';

export const JOURNAL_FILE = '.journal';
/** A resumable partial is kept this long after its last progress (then it is debris). */
export const RESUMABLE_KEEP_MS = 30 * 24 * 60 * 60 * 1000;

export interface JournalHead {
  version: 1;
  key: CacheKey;
  /** The complete entry's size, as the writer expected it: partial progress is stored bytes over this. */
  expectedBytes: number;
  header: unknown;
}

export interface Checkpoint {
  /** Each stored file's length at this checkpoint. */
  sizes: Record<string, number>;
  record: unknown;
}

export interface Journal {
  head: JournalHead;
  checkpoints: Checkpoint[];
  /** Bytes of the journal up to the end of its last valid line: where the next line goes. */
  validBytes: number;
}

const encoder = new TextEncoder();

export function journalLine(value: JournalHead | Checkpoint): Uint8Array {
  return encoder.encode(`${JSON.stringify(value)}\n`);
}

/** The journal in `bytes`, or null when even its head is missing or not one of ours. */
export function parseJournal(bytes: Uint8Array): Journal | null {
  let start = 0;
  let head: JournalHead | null = null;
  const checkpoints: Checkpoint[] = [];
  const decoder = new TextDecoder();
  for (let newline = bytes.indexOf(10); newline >= 0; newline = bytes.indexOf(10, start)) {
    const value = parseLine(decoder.decode(bytes.subarray(start, newline)));
    if (head === null) {
      if (!isHead(value)) return null;
      head = value;
    } else {
      const previous = checkpoints.at(-1)?.sizes ?? {};
      if (!isCheckpoint(value, previous)) break; // a damaged line ends what can be trusted
      checkpoints.push(value);
    }
    start = newline + 1;
  }
  return head === null ? null : { head, checkpoints, validBytes: start };
}

/** Sizes at the last checkpoint (none: every stored file is empty). */
export function checkpointSizes(journal: Journal): Record<string, number> {
  return journal.checkpoints.at(-1)?.sizes ?? {};
}

/** Bytes the partial holds durably. */
export function checkpointBytes(journal: Journal): number {
  return Object.values(checkpointSizes(journal)).reduce((sum, size) => sum + size, 0);
}

/** Whether a partial's header is the one a writer asks for (same JSON, key order included). */
export function sameHeader(journal: Journal, key: CacheKey, header: unknown): boolean {
  const { key: stored } = journal.head;
  return stored.repo === key.repo && stored.revision === key.revision && stored.dtype === key.dtype && JSON.stringify(journal.head.header) === JSON.stringify(header);
}

function parseLine(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isHead(value: unknown): value is JournalHead {
  const head = value as JournalHead | null;
  const key = head?.key;
  return (
    typeof head === 'object' &&
    head !== null &&
    head.version === 1 &&
    Number.isSafeInteger(head.expectedBytes) &&
    typeof key === 'object' &&
    key !== null &&
    [key.repo, key.revision, key.dtype].every((part) => typeof part === 'string' && part.length > 0) &&
    Object.hasOwn(head, 'header')
  );
}

/** Sizes are whole, name stored files, and never shrink: files are only appended to. */
function isCheckpoint(value: unknown, previous: Record<string, number>): value is Checkpoint {
  const checkpoint = value as Checkpoint | null;
  if (typeof checkpoint !== 'object' || checkpoint === null || !Object.hasOwn(checkpoint, 'record')) return false;
  const sizes = checkpoint.sizes;
  if (typeof sizes !== 'object' || sizes === null || Array.isArray(sizes)) return false;
  const entries = Object.entries(sizes);
  const valid = entries.every(([name, size]) => isStoredFileName(name) && Number.isSafeInteger(size) && size >= 0 && size >= (previous[name] ?? 0));
  return valid && Object.keys(previous).every((name) => Object.hasOwn(sizes, name));
}
