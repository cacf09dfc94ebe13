/**
 * Resumable partial entries of the browser cache (see journal.ts): an entry folder without a
 * manifest whose `.journal` has a head. No lock file is needed: a sync access handle holds its
 * file exclusively (a second one fails with NoModificationAllowedError), so whoever opens the
 * journal owns the partial, and the browser lets go when that worker dies (a reload, a crash).
 * Needs sync access handles, which dedicated workers have; browser-safe.
 */

import { type CacheKey } from './cache-store';
import { type FileSink, type JournalState } from './cache-writer';
import { checkpointSizes, JOURNAL_FILE, journalLine, parseJournal, type Journal } from './journal';
import { accessSink, isNamed, type OpfsDirectory, type OpfsSyncAccessHandle } from './opfs-writer';

/** What `inspect` sees of an unfinished folder's journal without opening it for writing. */
export type JournalPeek = { journal: Journal; lastModified: number } | 'locked' | null;

/** Reads the journal as a snapshot; 'locked' while a live writer holds it, null when there is none. */
export async function peekJournal(folder: OpfsDirectory): Promise<JournalPeek> {
  try {
    const file = await (await folder.getFileHandle(JOURNAL_FILE)).getFile();
    const journal = parseJournal(new Uint8Array(await file.arrayBuffer()));
    return journal && { journal, lastModified: file.lastModified };
  } catch (error) {
    if (isNamed(error, 'NotFoundError') || isNamed(error, 'TypeMismatchError')) return null;
    return 'locked'; // NoModificationAllowedError (held by an access handle) or not readable now
  }
}

/**
 * Opens the folder's journal for writing (owning the partial), or null when it is absent,
 * damaged or still held by another writer after `waitMs`.
 */
export async function takeJournal(folder: OpfsDirectory, waitMs = 0): Promise<{ access: OpfsSyncAccessHandle; journal: Journal } | null> {
  let access: OpfsSyncAccessHandle | undefined;
  const started = Date.now();
  while (!access) {
    try {
      const handle = await folder.getFileHandle(JOURNAL_FILE);
      if (!handle.createSyncAccessHandle) return null;
      access = await handle.createSyncAccessHandle();
    } catch (error) {
      // Absent, or another tab's writer holds it (NoModificationAllowedError) for longer than we wait.
      if (!isNamed(error, 'NoModificationAllowedError') || Date.now() - started >= waitMs) return null;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  const bytes = new Uint8Array(await access.getSize());
  access.read(bytes, { at: 0 });
  const journal = parseJournal(bytes);
  if (journal) return { access, journal };
  await access.close();
  return null;
}

/**
 * Continues a taken partial at its last checkpoint: the journal cut after its last valid line,
 * each stored file cut to its checkpointed size, files begun after it removed. Null (every
 * handle closed) when a stored file is shorter than its checkpoint says: the folder is damaged.
 */
export async function reopenPartial(folder: OpfsDirectory, taken: { access: OpfsSyncAccessHandle; journal: Journal }): Promise<JournalState | null> {
  const sizes = checkpointSizes(taken.journal);
  const opened: OpfsSyncAccessHandle[] = [taken.access];
  try {
    for await (const [name] of folder.entries()) {
      if (!name.startsWith('.') && !Object.hasOwn(sizes, name)) await folder.removeEntry(name, { recursive: true });
    }
    const files = new Map<string, { sink: FileSink; size: number }>();
    for (const [name, size] of Object.entries(sizes)) {
      const access = await (await folder.getFileHandle(name)).createSyncAccessHandle!();
      opened.push(access);
      if ((await access.getSize()) < size) throw new Damaged();
      await access.truncate(size);
      files.set(name, { sink: accessSink(name, access, size), size });
    }
    await taken.access.truncate(taken.journal.validBytes);
    return { journal: accessSink(JOURNAL_FILE, taken.access, taken.journal.validBytes), files };
  } catch (error) {
    for (const access of opened) await Promise.resolve(access.close()).catch(() => undefined);
    if (error instanceof Damaged || isNamed(error, 'NotFoundError')) return null;
    throw error;
  }
}

/** A new partial's journal, its head written and flushed; null where files have no sync access handles. */
export async function startJournal(folder: OpfsDirectory, key: CacheKey, expectedBytes: number, header: unknown): Promise<JournalState | null> {
  const handle = await folder.getFileHandle(JOURNAL_FILE, { create: true });
  if (!handle.createSyncAccessHandle) return null;
  const journal = accessSink(JOURNAL_FILE, await handle.createSyncAccessHandle(), 0);
  await journal.write(journalLine({ version: 1, key, expectedBytes, header }));
  await journal.sync();
  return { journal, files: new Map() };
}

class Damaged extends Error {}
