/**
 * An in-memory stand-in for the Origin Private File System, the subset opfs-cache.ts uses, for
 * its tests in Node (imported by *.test.ts only). It copies the behaviour the cache relies on,
 * as Chromium has it: a writable stream writes to a swap copy that close() swaps in and abort()
 * drops; a sync access handle locks its file (no second writer, no getFile, no removal);
 * removing a non-empty folder needs `recursive`; a removed entry's handles throw NotFoundError;
 * errors are DOMExceptions with the spec's names; going past the quota throws QuotaExceededError.
 */

import type { OpfsDirectory, OpfsFileHandle, OpfsStorage, OpfsSyncAccessHandle, OpfsWritable } from '../cache/opfs-cache';

export interface FakeStorageOptions {
  /** Total bytes files may hold; past it, writes throw QuotaExceededError. */
  writeLimit?: number;
  /** What estimate() reports as the quota (default: writeLimit), to test a browser that misjudges. */
  reportedQuota?: number;
  /** false: like the main thread, where FileSystemFileHandle has no createSyncAccessHandle. */
  syncHandles?: boolean;
  /**
   * A sync access handle's write past the quota returns -8 (FILE_ERROR_NO_SPACE) as an unsigned
   * 32-bit number instead of throwing, as Chromium 156 does (seen with Storage.overrideQuotaForOrigin).
   */
  quotaWriteReturnsErrorCode?: boolean;
  /** Time for files' lastModified. */
  clock?: () => number;
}

const fail = (name: string, message: string) => new DOMException(message, name);

export class FakeStorage implements OpfsStorage {
  readonly root: FakeDirectory;
  readonly writeLimit: number;
  readonly reportedQuota: number;
  readonly syncHandles: boolean;
  readonly quotaWriteReturnsErrorCode: boolean;
  readonly clock: () => number;
  persistedFlag = false;
  /** Called before every removeEntry; a test may throw from it to simulate a failed removal. */
  onRemove?: (name: string) => void;
  /** Bytes held by open writable streams' swap copies, which count against the quota too. */
  readonly swaps = new Set<FakeWritable>();

  constructor(options: FakeStorageOptions = {}) {
    this.writeLimit = options.writeLimit ?? 2 ** 40;
    this.reportedQuota = options.reportedQuota ?? this.writeLimit;
    this.syncHandles = options.syncHandles ?? true;
    this.quotaWriteReturnsErrorCode = options.quotaWriteReturnsErrorCode ?? false;
    this.clock = options.clock ?? Date.now;
    this.root = new FakeDirectory(this, '');
  }

  async getDirectory(): Promise<FakeDirectory> {
    return this.root;
  }

  async estimate(): Promise<{ usage: number; quota: number }> {
    return { usage: this.usedBytes(), quota: this.reportedQuota };
  }

  async persisted(): Promise<boolean> {
    return this.persistedFlag;
  }

  async persist(): Promise<boolean> {
    this.persistedFlag = true;
    return true;
  }

  /** What the browser does when a writer's tab or worker dies: its locks go, its unclosed streams are dropped. */
  crash(): void {
    const unlock = (folder: FakeDirectory): void =>
      folder.children.forEach((child) => (child instanceof FakeDirectory ? unlock(child) : (child.locked = false)));
    unlock(this.root);
    this.swaps.clear();
  }

  usedBytes(): number {
    const inTree = (folder: FakeDirectory): number =>
      [...folder.children.values()].reduce((sum, child) => sum + (child instanceof FakeDirectory ? inTree(child) : child.size), 0);
    return inTree(this.root) + [...this.swaps].reduce((sum, swap) => sum + swap.size, 0);
  }

  /** Throws QuotaExceededError unless `extra` more bytes fit. */
  reserve(extra: number): void {
    if (extra > 0 && this.usedBytes() + extra > this.writeLimit) throw fail('QuotaExceededError', 'The quota has been exceeded.');
  }
}

abstract class FakeEntry {
  removed = false;
  constructor(
    readonly storage: FakeStorage,
    readonly name: string,
  ) {}

  protected checkPresent(): void {
    if (this.removed) throw fail('NotFoundError', `${this.name} was removed`);
  }
}

export class FakeDirectory extends FakeEntry implements OpfsDirectory {
  readonly kind = 'directory';
  readonly children = new Map<string, FakeDirectory | FakeFile>();

  async getDirectoryHandle(name: string, options?: { create?: boolean }): Promise<FakeDirectory> {
    return this.child(name, options?.create ?? false, FakeDirectory);
  }

  async getFileHandle(name: string, options?: { create?: boolean }): Promise<FakeFile> {
    return this.child(name, options?.create ?? false, FakeFile);
  }

  async removeEntry(name: string, options?: { recursive?: boolean }): Promise<void> {
    this.checkPresent();
    this.storage.onRemove?.(name);
    const child = this.children.get(name);
    if (!child) throw fail('NotFoundError', `${name} does not exist`);
    if (child instanceof FakeDirectory && child.children.size > 0 && !options?.recursive) {
      throw fail('InvalidModificationError', `${name} is not empty`);
    }
    if (isLocked(child)) throw fail('NoModificationAllowedError', `${name} holds a file open for writing`);
    markRemoved(child);
    this.children.delete(name);
  }

  async *entries(): AsyncGenerator<[string, FakeDirectory | FakeFile]> {
    this.checkPresent();
    yield* [...this.children]; // a snapshot, so removing while iterating is safe
  }

  private child<T extends FakeDirectory | FakeFile>(
    name: string,
    create: boolean,
    kind: new (storage: FakeStorage, name: string) => T,
  ): T {
    this.checkPresent();
    if (name === '' || name === '.' || name === '..' || name.includes('/')) throw new TypeError(`bad name ${name}`);
    const existing = this.children.get(name);
    if (existing && !(existing instanceof kind)) throw fail('TypeMismatchError', `${name} is not a ${kind.name}`);
    if (existing) return existing as T;
    if (!create) throw fail('NotFoundError', `${name} does not exist`);
    const made = new kind(this.storage, name);
    this.children.set(name, made);
    return made;
  }
}

function isLocked(entry: FakeDirectory | FakeFile): boolean {
  return entry instanceof FakeFile ? entry.locked : [...entry.children.values()].some(isLocked);
}

function markRemoved(entry: FakeDirectory | FakeFile): void {
  entry.removed = true;
  if (entry instanceof FakeDirectory) entry.children.forEach(markRemoved);
}

export class FakeFile extends FakeEntry implements OpfsFileHandle {
  readonly kind = 'file';
  data: Uint8Array = new Uint8Array(0);
  lastModified: number;
  locked = false;
  createSyncAccessHandle?: () => Promise<OpfsSyncAccessHandle>;

  constructor(storage: FakeStorage, name: string) {
    super(storage, name);
    this.lastModified = storage.clock();
    if (storage.syncHandles) {
      this.createSyncAccessHandle = async () => {
        this.checkUnlocked();
        this.locked = true;
        return new FakeSyncHandle(this);
      };
    }
  }

  get size(): number {
    return this.data.length;
  }

  async getFile(): Promise<File> {
    this.checkUnlocked();
    return new File([this.data.slice()], this.name, { lastModified: this.lastModified });
  }

  async createWritable(options?: { keepExistingData?: boolean }): Promise<FakeWritable> {
    this.checkUnlocked();
    return new FakeWritable(this, options?.keepExistingData ? this.data.slice() : new Uint8Array(0));
  }

  /** Writes `bytes` at `at` (growing the file), after a quota check on the growth. */
  writeAt(bytes: Uint8Array, at: number): void {
    this.checkPresent();
    const end = Math.max(this.size, at + bytes.length);
    this.storage.reserve(end - this.size);
    const grown = new Uint8Array(end);
    grown.set(this.data);
    grown.set(bytes, at);
    this.data = grown;
    this.lastModified = this.storage.clock();
  }

  private checkUnlocked(): void {
    this.checkPresent();
    if (this.locked) throw fail('NoModificationAllowedError', `${this.name} is locked by an access handle`);
  }
}

class FakeWritable implements OpfsWritable {
  private open = true;

  constructor(
    private readonly file: FakeFile,
    private swap: Uint8Array,
  ) {
    file.storage.swaps.add(this);
  }

  get size(): number {
    return this.swap.length;
  }

  async write(data: Uint8Array): Promise<void> {
    if (!this.open) throw new TypeError('the stream is closed');
    this.file.storage.reserve(data.length);
    const grown = new Uint8Array(this.swap.length + data.length);
    grown.set(this.swap);
    grown.set(data, this.swap.length);
    this.swap = grown;
  }

  async close(): Promise<void> {
    if (!this.open) throw new TypeError('the stream is closed');
    this.open = false;
    this.file.storage.swaps.delete(this);
    if (this.file.removed) throw fail('NotFoundError', `${this.file.name} was removed`);
    this.file.data = this.swap;
    this.file.lastModified = this.file.storage.clock();
  }

  async abort(): Promise<void> {
    this.open = false;
    this.file.storage.swaps.delete(this);
  }
}

class FakeSyncHandle implements OpfsSyncAccessHandle {
  private open = true;

  constructor(private readonly file: FakeFile) {}

  write(buffer: Uint8Array, options?: { at?: number }): number {
    this.checkOpen();
    try {
      this.file.writeAt(buffer, options?.at ?? 0);
    } catch (error) {
      if (this.file.storage.quotaWriteReturnsErrorCode && (error as DOMException).name === 'QuotaExceededError') return 2 ** 32 - 8;
      throw error;
    }
    return buffer.length;
  }

  read(buffer: Uint8Array, options?: { at?: number }): number {
    this.checkOpen();
    const at = options?.at ?? 0;
    const bytes = this.file.data.subarray(at, at + buffer.length);
    buffer.set(bytes);
    return bytes.length;
  }

  getSize(): number {
    this.checkOpen();
    return this.file.size;
  }

  truncate(size: number): void {
    this.checkOpen();
    const kept = new Uint8Array(size);
    kept.set(this.file.data.subarray(0, size));
    this.file.data = kept;
  }

  flush(): void {
    this.checkOpen();
  }

  close(): void {
    this.open = false;
    this.file.locked = false;
  }

  private checkOpen(): void {
    if (!this.open) throw fail('InvalidStateError', 'the access handle is closed');
  }
}
