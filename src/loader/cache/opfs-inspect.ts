/**
 * What one folder of the browser cache is: a complete entry (its manifest and stored files), a
 * damaged one, an unfinished one (a writer at work, or a resumable partial with its journal), or
 * one the browser will not read now. Browser-safe; used by opfs-cache.ts.
 */

import { cacheEntryId, damagedFileReason, MANIFEST_FILE, MAX_MANIFEST_BYTES, parseManifest, type CacheManifest } from './cache-store';
import type { Journal } from './journal';
import { peekJournal } from './opfs-partial';
import { isNamed, type OpfsDirectory } from './opfs-writer';

export type Inspection =
  | { state: 'complete'; name: string; manifest: CacheManifest; files: Map<string, File>; time: number }
  /** A manifest whose files do not match it: `reason` says how. */
  | { state: 'damaged'; name: string; reason: string }
  /** No manifest; `journal` when it is a resumable partial ('locked': a live writer holds it). */
  | { state: 'unfinished'; name: string; lastActive: number; journal: Journal | 'locked' | null }
  /** A stored file the browser would not read now: neither used nor removed. */
  | { state: 'unreadable'; name: string };

export type Complete = Extract<Inspection, { state: 'complete' }>;

export function isNewer(a: Complete, b: Complete): boolean {
  if (a.manifest.createdAt !== b.manifest.createdAt) return a.manifest.createdAt > b.manifest.createdAt;
  return a.time !== b.time ? a.time > b.time : a.name > b.name;
}

export async function inspect(folder: OpfsDirectory, name: string, id: string, time: number, now: () => number): Promise<Inspection> {
  const manifestFile = await folder.getFileHandle(MANIFEST_FILE).then(
    (handle) => handle.getFile(),
    (error: unknown) => {
      if (isNamed(error, 'NotFoundError')) return null;
      throw error;
    },
  );
  const manifest = manifestFile && manifestFile.size <= MAX_MANIFEST_BYTES ? parseManifest(await manifestFile.text()) : null;
  if (!manifest) {
    // No manifest yet (or one still being written): the folder's age decides.
    let lastActive = time;
    for await (const [, handle] of folder.entries()) {
      if (handle.kind !== 'file') continue;
      // A file a live writer holds locked may refuse to be read: that counts as activity.
      lastActive = Math.max(lastActive, await handle.getFile().then((file) => file.lastModified, () => now()));
    }
    const peek = await peekJournal(folder);
    return { state: 'unfinished', name, lastActive, journal: peek === null || peek === 'locked' ? peek : peek.journal };
  }
  if (cacheEntryId(manifest.key) !== id) return { state: 'damaged', name, reason: `its manifest names another model (${manifest.key.repo})` };
  const files = new Map<string, File>();
  for (const [file, { size }] of Object.entries(manifest.files)) {
    let stored: File;
    try {
      stored = await (await folder.getFileHandle(file)).getFile();
    } catch (error) {
      if (isNamed(error, 'NotFoundError') || isNamed(error, 'TypeMismatchError')) return { state: 'damaged', name, reason: damagedFileReason(file, null, size) };
      return { state: 'unreadable', name };
    }
    if (stored.size !== size) return { state: 'damaged', name, reason: damagedFileReason(file, stored.size, size) };
    files.set(file, stored);
  }
  return { state: 'complete', name, manifest, files, time };
}
