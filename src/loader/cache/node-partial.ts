/**
 * Resumable partial entries of the Node model cache (see journal.ts): a `<id>.partial-*` folder
 * whose `.journal` has a head. A writer holds the folder through `.lock` (its pid and host): a
 * lock whose process is gone on this host is stale and taken over, so `generate` killed
 * mid-download is continued by the next run. Node only.
 */

import { open, readdir, readFile, rm, stat, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { isMissing } from '../node-fs';
import { splitFolderName, type CacheKey, type PartialEntry } from './cache-store';
import { positionalSink, type FileSink, type JournalState } from './cache-writer';
import { checkpointBytes, checkpointSizes, JOURNAL_FILE, journalLine, parseJournal, type Journal } from './journal';

export const LOCK_FILE = '.lock';
/** A journal read for a listing or a resume is small; a bigger one is not ours. */
const MAX_JOURNAL_BYTES = 16 * 1024 * 1024;

export function isPartialFolder(name: string, id?: string): boolean {
  const parts = splitFolderName(name);
  return parts !== null && parts.suffix.startsWith('partial-') && (id === undefined || parts.id === id);
}

/** The folder's journal, or null when it has none (a plain writer's folder) or a damaged head. */
export async function readJournal(folder: string): Promise<Journal | null> {
  try {
    const file = path.join(folder, JOURNAL_FILE);
    if ((await stat(file)).size > MAX_JOURNAL_BYTES) return null;
    return parseJournal(new Uint8Array(await readFile(file)));
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
}

/** Takes the folder's lock, or returns false when a live process holds it. */
export async function tryLock(folder: string): Promise<boolean> {
  const file = path.join(folder, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(`${process.pid}\n${hostname()}\n`);
      await handle.close();
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || (await isLive(folder))) return false;
      await rm(file, { force: true }); // its writer died: take it over
    }
  }
  return false;
}

export async function unlock(folder: string): Promise<void> {
  await rm(path.join(folder, LOCK_FILE), { force: true });
}

/** Whether a process that is still running (on this host, or anywhere we cannot check) holds the folder. */
export async function isLive(folder: string): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(path.join(folder, LOCK_FILE), 'utf8');
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
  const [pid, host] = text.split('\n');
  if (!/^\d+$/.test(pid ?? '')) return false;
  if (host !== hostname()) return true;
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, someone else's
  }
}

/**
 * Opens a locked partial for writing at its last checkpoint: its journal cut after the last valid
 * line, each stored file cut to its checkpointed size, files begun after it deleted. Null when a
 * stored file is shorter than its checkpoint says (the folder is damaged).
 */
export async function reopenPartial(folder: string, journal: Journal): Promise<JournalState | null> {
  const sizes = checkpointSizes(journal);
  const handles: FileHandle[] = [];
  try {
    const files = new Map<string, { sink: FileSink; size: number }>();
    for (const name of await readdir(folder)) {
      if (name === JOURNAL_FILE || name === LOCK_FILE) continue;
      if (!Object.hasOwn(sizes, name)) await rm(path.join(folder, name), { force: true, recursive: true });
    }
    for (const [name, size] of Object.entries(sizes)) {
      const handle = await open(path.join(folder, name), 'r+');
      handles.push(handle);
      if ((await handle.stat()).size < size) throw new Damaged();
      await handle.truncate(size);
      files.set(name, { sink: handleSink(name, handle, size), size });
    }
    const journalHandle = await open(path.join(folder, JOURNAL_FILE), 'r+');
    handles.push(journalHandle);
    await journalHandle.truncate(journal.validBytes);
    return { journal: handleSink(JOURNAL_FILE, journalHandle, journal.validBytes), files };
  } catch (error) {
    await Promise.allSettled(handles.map((handle) => handle.close()));
    if (error instanceof Damaged || isMissing(error)) return null;
    throw error;
  }
}

/** A new partial's journal, its head written and flushed. */
export async function startJournal(folder: string, key: CacheKey, expectedBytes: number, header: unknown): Promise<JournalState> {
  const handle = await open(path.join(folder, JOURNAL_FILE), 'wx');
  const journal = handleSink(JOURNAL_FILE, handle, 0);
  await journal.write(journalLine({ version: 1, key, expectedBytes, header }));
  await journal.sync();
  return { journal, files: new Map() };
}

export async function describePartial(root: string, name: string, journal: Journal): Promise<PartialEntry> {
  const folder = path.join(root, name);
  let updated = 0;
  for (const file of await readdir(folder).catch(() => [])) {
    updated = Math.max(updated, await stat(path.join(folder, file)).then((s) => s.mtimeMs, () => 0));
  }
  return {
    id: name,
    key: journal.head.key,
    bytes: checkpointBytes(journal),
    expectedBytes: journal.head.expectedBytes,
    updatedAt: new Date(updated).toISOString(),
    live: await isLive(folder),
  };
}

function handleSink(file: string, handle: FileHandle, start: number): FileSink {
  return positionalSink(
    file,
    {
      writeAt: async (bytes, at) => (await handle.write(bytes, 0, bytes.length, at)).bytesWritten,
      readAt: async (bytes, at) => (await handle.read(bytes, 0, bytes.length, at)).bytesRead,
      flush: () => handle.datasync(),
      close: () => handle.close(),
    },
    start,
  );
}

class Damaged extends Error {}
