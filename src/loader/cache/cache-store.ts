/**
 * The persistent cache of converted model weights: the interface both stores implement (a cache
 * folder in Node, the Origin Private File System in the browser) and what they share: entry ids,
 * folder names, manifest validation and the quota error. Browser-safe: no Node imports.
 *
 * An entry is a folder of stored files plus `manifest.json`, written last. A folder is used only
 * when its manifest parses, names the key asked for, and lists exactly the sizes its files have,
 * so a crash at any point leaves at worst an invisible folder. A writer started by `resume()`
 * also keeps a journal (journal.ts): its unfinished folder is a partial entry that the next
 * `resume()` of the same key and header continues; other unfinished folders are debris that a
 * later `list()` removes.
 */

import { EngineError } from '../../errors';
import type { FileSource } from '../types';

export interface CacheKey {
  repo: string;
  /** The resolved commit sha, or `local` for a folder on disk. */
  revision: string;
  /** The stored weight format, e.g. `q4`. */
  dtype: string;
}

export interface CacheManifest {
  version: 1;
  key: CacheKey;
  /** ISO date. */
  createdAt: string;
  /** Identity of the source files the entry was built from (ETag / LFS sha256 and size), to detect upstream changes. */
  sources: Record<string, { etag?: string; size: number }>;
  /** Stored files and their sizes; readers verify sizes. */
  files: Record<string, { size: number }>;
  totalBytes: number;
  /** Engine-specific layout (opaque JSON here; `null` when the engine gave none). */
  extra: unknown;
}

export interface CacheEntry {
  id: string;
  manifest: CacheManifest;
}

export interface CacheWriter {
  /** Appends bytes to a stored file (created on first write). Files may be written in any interleaving. */
  append(file: string, bytes: Uint8Array): Promise<void>;
  /** Writes the manifest LAST (atomically where the platform allows: temp name + rename), making the entry visible. */
  commit(manifest: Omit<CacheManifest, 'files' | 'totalBytes' | 'version' | 'createdAt'>): Promise<CacheEntry>;
  /** Deletes everything written so far. Safe to call after a failure, idempotent. */
  abort(): Promise<void>;
}

/**
 * A writer whose entry can outlive it: what `checkpoint` made durable is continued by the next
 * `resume` of the same key and header, after a reload, a crash or a killed process.
 */
export interface ResumableWriter extends CacheWriter {
  /** False where the platform cannot make bytes durable mid-way: the writer then keeps nothing when it stops. */
  readonly resumable: boolean;
  /** Bytes a stored file holds now. */
  size(file: string): number;
  /** Bytes of a stored file (checkpointed or since appended), through the writer's own handle. */
  read(file: string, offset: number, length: number): Promise<Uint8Array>;
  /** Makes every byte appended so far durable, then journals `record` (a later resume lists it). */
  checkpoint(record: unknown): Promise<void>;
  /** Closes the files, keeping what the last checkpoint vouches for (a plain writer aborts). */
  suspend(): Promise<void>;
}

export interface ResumedEntry {
  writer: ResumableWriter;
  /** The records checkpointed by earlier writers, oldest first (empty for a fresh entry). */
  records: unknown[];
  /** Stored bytes those checkpoints hold. */
  resumedBytes: number;
}

/** An unfinished, resumable entry (see journal.ts). */
export interface PartialEntry {
  /** Its own id (the folder name), which `delete` takes. */
  id: string;
  key: CacheKey;
  /** Bytes stored durably so far, of `expectedBytes`. */
  bytes: number;
  expectedBytes: number;
  /** ISO date of its last progress. */
  updatedAt: string;
  /** Being written now (by this store). */
  live: boolean;
}

export interface CacheStore {
  readonly description: string;
  /** Complete entries only (a folder without a valid manifest is not listed, and is deleted as debris). */
  list(): Promise<(CacheEntry & { bytes: number })[]>;
  /** A complete entry as a FileSource over its stored files (null when absent or incomplete/corrupt). */
  open(key: CacheKey): Promise<{ entry: CacheEntry; files: FileSource } | null>;
  /** Starts a new entry (replacing any old one for the key only at commit); fails early with `quota-exceeded`. */
  create(key: CacheKey, expectedBytes: number): Promise<CacheWriter>;
  /**
   * Continues the unfinished entry for `key` written under the same `header` (the caller's
   * identity of what it builds: commit, layout), or starts one. Partials of the key under
   * another header are removed. Fails early with `quota-exceeded` when what is left does not fit.
   */
  resume(key: CacheKey, expectedBytes: number, header: unknown): Promise<ResumedEntry>;
  /** Unfinished resumable entries, with their progress. */
  partials(): Promise<PartialEntry[]>;
  /** Deletes a complete entry (its id) or a partial one (its PartialEntry id). */
  delete(id: string): Promise<void>;
  /** Used and available bytes where the platform says. */
  usage(): Promise<{ usedBytes: number; availableBytes?: number; quotaBytes?: number; persisted?: boolean }>;
  /** Free room for new entries where the platform says: usage()'s availableBytes without listing the entries. */
  availableBytes(): Promise<number | undefined>;
  /**
   * Why `key`'s complete entry was found damaged (a stored file cut short or missing) and removed
   * by this store, once: a load asks when open() finds nothing, so it can say the copy is fetched
   * again. Undefined when no damaged entry of the key was found since the last ask.
   */
  takeDamage(key: CacheKey): string | undefined;
  /**
   * The platform refused a write since an entry was last deleted or committed here: its
   * free-space figure (availableBytes) is not to be trusted to promise room until then.
   */
  writeRefused(): boolean;
}

/**
 * What a store learnt that its folders no longer show: complete entries it found damaged and
 * removed (by entry id, until a load takes the reason), and whether the platform refused a write.
 */
export class StoreNotes {
  private readonly damage = new Map<string, string>();
  private refused = false;

  /**
   * The first finding stands until taken: another look racing the removal of the damaged folder
   * (an estimate and a load at once) would find files missing that were only being removed.
   */
  noteDamage(id: string, reason: string): void {
    if (!this.damage.has(id)) this.damage.set(id, reason);
  }

  takeDamage(key: CacheKey): string | undefined {
    const id = cacheEntryId(key);
    const reason = this.damage.get(id);
    this.damage.delete(id);
    return reason;
  }

  noteRefusedWrite(): void {
    this.refused = true;
  }

  /** An entry was deleted or committed: the room there changed, the refusal is old news. */
  roomChanged(): void {
    this.refused = false;
  }

  /** Entry `id` was committed anew: nothing damaged of it is left to tell. */
  committed(id: string): void {
    this.roomChanged();
    this.damage.delete(id);
  }

  writeRefused(): boolean {
    return this.refused;
  }
}

/** Why a complete entry's stored file makes it damaged: `size` null when the file is missing. */
export function damagedFileReason(file: string, size: number | null, listed: number): string {
  const amount = (bytes: number) => (bytes < 1024 * 1024 ? `${bytes} bytes` : formatBytes(bytes));
  return size === null ? `${file} is missing` : `${file} holds ${amount(size)} of the ${amount(listed)} its manifest lists`;
}

export const MANIFEST_FILE = 'manifest.json';
/** Keys, sizes and the engine's layout fit in far less; a bigger "manifest" is not ours. */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;
/**
 * A folder without a manifest may belong to a live writer in another process or tab; only one
 * silent for this long (by its name's timestamp and its files' modification times) is debris.
 */
export const STALE_PARTIAL_MS = 60 * 60 * 1000;
/** Past this, an id keeps a readable prefix and ends in a hash, far below any filesystem's 255-byte name limit. */
const MAX_ID_LENGTH = 160;

/**
 * A stable, filesystem-safe folder name for a key, unique per key: `org--name--revision--dtype`.
 * Each part keeps `[A-Za-z0-9_]`, inner dots and lone inner dashes and percent-encodes the rest
 * (UTF-8), so no part contains `--` and the split is unambiguous. The dtype part, always last,
 * never keeps a dot: the first dot after the last `--` therefore starts a folder-name suffix.
 */
export function cacheEntryId(key: CacheKey): string {
  checkKey(key);
  const slash = key.repo.indexOf('/');
  const repo =
    slash > 0 && slash < key.repo.length - 1
      ? `${escapePart(key.repo.slice(0, slash), false)}--${escapePart(key.repo.slice(slash + 1), false)}`
      : escapePart(key.repo, false);
  const id = `${repo}--${escapePart(key.revision, false)}--${escapePart(key.dtype, true)}`;
  // `~` never survives escaping, so a shortened id cannot equal a full one.
  return id.length <= MAX_ID_LENGTH ? id : `${id.slice(0, MAX_ID_LENGTH - 24)}--~${fnv1a64(id)}`;
}

function escapePart(text: string, escapeEveryDot: boolean): string {
  const chars = [...text];
  return chars
    .map((char, i) => {
      const edge = i === 0 || i === chars.length - 1;
      const keep =
        /^[A-Za-z0-9_]$/.test(char) ||
        // Edge dots would make hidden folders (leading) or names Windows trims (trailing).
        (char === '.' && !edge && !escapeEveryDot) ||
        (char === '-' && !edge && chars[i - 1] !== '-' && chars[i + 1] !== '-');
      if (keep) return char;
      return [...new TextEncoder().encode(char)].map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join('');
    })
    .join('');
}

/** 64-bit FNV-1a of `text`'s UTF-8, 16 hex digits: short, stable fingerprints. */
export function fnv1a64(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) hash = ((hash ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return hash.toString(16).padStart(16, '0');
}

/** Splits a folder name into the entry id and what follows it (`''` for a bare id); null for folders that are not ours. */
export function splitFolderName(name: string): { id: string; suffix: string } | null {
  const last = name.lastIndexOf('--');
  if (last <= 0) return null;
  const dot = name.indexOf('.', last);
  const id = dot < 0 ? name : name.slice(0, dot);
  if (!/^[A-Za-z0-9._%~-]+$/.test(id) || id.split('--').length < 3) return null;
  return { id, suffix: dot < 0 ? '' : name.slice(dot + 1) };
}

/** An id a user passed to delete(): a bare entry id of ours, or one of our (partial) folder names; returns its parts. */
export function checkEntryId(id: string): { id: string; suffix: string } {
  const parts = splitFolderName(id);
  const whole = parts !== null && `${parts.id}${parts.suffix === '' ? '' : `.${parts.suffix}`}` === id;
  if (!parts || !whole || !/^[0-9a-z-]*$/.test(parts.suffix)) {
    throw new EngineError('bad-input', `${JSON.stringify(id)} is not a cached model id`);
  }
  return parts;
}

/** `<base36 time>-<random>`: unique per writer, and its time lets other processes judge its age. */
export function timedSuffix(now: number): string {
  const random = crypto.getRandomValues(new Uint32Array(1))[0].toString(36).padStart(7, '0');
  return `${Math.floor(now).toString(36)}-${random}`;
}

/** The time a `timedSuffix` was made (it may follow a tag such as `partial-`), or null. */
export function suffixTime(suffix: string): number | null {
  const match = /(?:^|-)([0-9a-z]+)-[0-9a-z]+$/.exec(suffix);
  return match ? parseInt(match[1], 36) : null;
}

export function checkKey(key: CacheKey): void {
  for (const field of ['repo', 'revision', 'dtype'] as const) {
    if (typeof key?.[field] !== 'string' || key[field].length === 0) {
      throw new EngineError('bad-input', `cache key needs a non-empty ${field}, got ${JSON.stringify(key?.[field])}`);
    }
  }
}

export function sameKey(a: CacheKey, b: CacheKey): boolean {
  return a.repo === b.repo && a.revision === b.revision && a.dtype === b.dtype;
}

export function checkExpectedBytes(expectedBytes: number): void {
  if (!Number.isSafeInteger(expectedBytes) || expectedBytes < 0) {
    throw new EngineError('bad-input', `expected cache size must be a whole number of bytes, got ${expectedBytes}`);
  }
}

/**
 * Stored files are flat names (`weights.bin`, `tokenizer.model`): no folders, nothing hidden
 * (dot files are the store's own), nothing Windows refuses, not the manifest.
 */
export function isStoredFileName(name: string): boolean {
  return (
    typeof name === 'string' &&
    name.length > 0 &&
    name.length <= 200 &&
    name !== MANIFEST_FILE &&
    !name.startsWith('.') &&
    !name.endsWith('.') &&
    !name.endsWith(' ') &&
    !/[\u0000-\u001f/\\<>:"|?*]/.test(name)
  );
}

export function checkStoredFileName(name: string): void {
  if (!isStoredFileName(name)) {
    throw new EngineError('bad-input', `${JSON.stringify(name)} cannot be stored in the model cache: use a flat file name`);
  }
}

/** The manifest in `text`, or null when it is not one this version wrote (the entry is then ignored). */
export function parseManifest(text: string): CacheManifest | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null; // Unparsable means half-written or damaged: the entry does not exist.
  }
  return isManifest(value) ? value : null;
}

function isManifest(value: unknown): value is CacheManifest {
  if (!isRecord(value) || value.version !== 1 || !Object.hasOwn(value, 'extra')) return false;
  const key = value.key as CacheKey;
  if (!isRecord(key) || ![key.repo, key.revision, key.dtype].every((part) => typeof part === 'string' && part.length > 0)) {
    return false;
  }
  if (typeof value.createdAt !== 'string' || Number.isNaN(Date.parse(value.createdAt))) return false;
  if (!isRecord(value.sources) || !isRecord(value.files)) return false;
  const sourcesValid = Object.values(value.sources).every(
    (source) => isRecord(source) && isByteCount(source.size) && (source.etag === undefined || typeof source.etag === 'string'),
  );
  const files = Object.entries(value.files);
  const filesValid = files.every(([name, file]) => isStoredFileName(name) && isRecord(file) && isByteCount(file.size));
  return sourcesValid && filesValid && value.totalBytes === files.reduce((sum, [, file]) => sum + (file as { size: number }).size, 0);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isByteCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** The manifest a writer commits; refuses one that `parseManifest` would not read back. */
export function buildManifest(
  key: CacheKey,
  meta: Omit<CacheManifest, 'files' | 'totalBytes' | 'version' | 'createdAt'>,
  sizes: Map<string, number>,
  createdAt: Date,
): CacheManifest {
  if (!sameKey(key, meta.key)) {
    throw new EngineError('internal', `cache writer for ${JSON.stringify(key)} committed with key ${JSON.stringify(meta.key)}`);
  }
  const files = [...sizes].sort(([a], [b]) => (a < b ? -1 : 1));
  const manifest: CacheManifest = {
    version: 1,
    key: { repo: key.repo, revision: key.revision, dtype: key.dtype },
    createdAt: createdAt.toISOString(),
    sources: meta.sources,
    // fromEntries defines own properties, so even a file named `__proto__` is stored as data.
    files: Object.fromEntries(files.map(([name, size]) => [name, { size }])),
    totalBytes: files.reduce((sum, [, size]) => sum + size, 0),
    extra: meta.extra ?? null,
  };
  if (parseManifest(JSON.stringify(manifest)) === null) {
    throw new EngineError('internal', `cache manifest for ${key.repo} would not read back: check its sources (${JSON.stringify(meta.sources)})`);
  }
  return manifest;
}

/** Bytes to ask for beyond the entry itself: quota estimates are approximate, and a full disk helps nobody. */
export function withHeadroom(bytes: number): number {
  return bytes + Math.max(64 * 1024 * 1024, Math.ceil(bytes / 100));
}

export function formatBytes(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GiB` : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

/** What helps when the cache lacks room, by where it is (the app's storage or a folder). */
export const ROOM_ADVICE = {
  browser: 'To cache it: free disk space, delete cached models in Model management, or allow persistent storage for this site; then load the model again.',
  folder: 'To cache it: free disk space, delete cached models (cache list, cache delete ID) or choose another --cache-dir; then load the model again.',
};

/** The one error for "not enough room", before writing: how much is needed and how much there is. */
export function quotaError(key: CacheKey, needed: number, available: number, where: string, cause?: unknown, advice = 'Free up space or delete cached models, then load the model again.'): EngineError {
  return new EngineError(
    'quota-exceeded',
    `Caching ${key.repo} needs ${formatBytes(needed)} of free space in ${where}, but only ${formatBytes(Math.max(0, available))} is available. ${advice}`,
    { needed, available },
    cause === undefined ? undefined : { cause },
  );
}

/**
 * The quota error for a write the platform refused mid-way. Its free-space figure (`available`,
 * asked after the unfinished entry was removed) is given only when it agrees, less than the entry
 * needs; otherwise the figure is wrong there (a quota set below the disk's room, a disk nearly
 * full, another program writing) and the message says only what is known: the write was refused.
 */
export function refusedWriteError(key: CacheKey, needed: number, available: number | undefined, where: string, advice: string, cause: unknown): EngineError {
  if (available !== undefined && available < needed) {
    const error = quotaError(key, needed, available, where, cause, advice);
    return new EngineError('quota-exceeded', error.message, { needed, available, refused: true }, { cause });
  }
  // Node's errno code (ENOSPC), else the DOMException's name (whose numeric `code` says less).
  const { code, name: errorName } = (cause ?? {}) as { code?: unknown; name?: unknown };
  const name = typeof code === 'string' ? code : errorName;
  return new EngineError(
    'quota-exceeded',
    `${where[0].toUpperCase()}${where.slice(1)} refused to store more of ${key.repo}${typeof name === 'string' ? ` (${name})` : ''}, so the model runs without being cached. ` +
      `Its free-space estimate still shows room, so that estimate is wrong here and no figures are given. ${advice}`,
    { needed, refused: true },
    { cause },
  );
}
