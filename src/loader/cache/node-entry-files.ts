/**
 * Reading a Node cache folder's files: the manifest, whether the files have the sizes it lists,
 * exact ranged reads, and folder identity (device and inode) to tell a replaced folder from a
 * damaged one. Node only; used by node-cache.ts.
 */

import { readFile, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { EngineError } from '../../errors';
import { errorCode, isMissing } from '../node-fs';
import { damagedFileReason, MANIFEST_FILE, MAX_MANIFEST_BYTES, parseManifest, type CacheManifest } from './cache-store';
import { fsError } from './node-cache-writer';

export async function readManifest(folder: string): Promise<CacheManifest | null> {
  const file = path.join(folder, MANIFEST_FILE);
  const stats = await statOrNull(file);
  if (!stats?.isFile() || stats.size > MAX_MANIFEST_BYTES) return null;
  try {
    return parseManifest(await readFile(file, 'utf8'));
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
}

/** Why the entry's stored files do not match its manifest (a file missing or of another size), or null when they do. */
export async function sizeMismatch(folder: string, manifest: CacheManifest): Promise<string | null> {
  for (const [name, file] of Object.entries(manifest.files)) {
    const stats = await statOrNull(path.join(folder, name)).catch((error) => {
      throw fsError(path.dirname(folder), error);
    });
    if (!stats?.isFile() || stats.size !== file.size) return damagedFileReason(name, stats?.isFile() ? stats.size : null, file.size);
  }
  return null;
}

export async function readExactly(handle: FileHandle, folder: string, file: string, offset: number, length: number): Promise<Uint8Array> {
  const bytes = new Uint8Array(length);
  for (let filled = 0; filled < length; ) {
    const { bytesRead } = await handle.read(bytes, filled, length - filled, offset + filled).catch((error) => {
      throw new EngineError('integrity-failed', `cannot read cached ${file} in ${folder}: ${errorCode(error)}`, { file }, { cause: error });
    });
    if (bytesRead === 0) {
      throw new EngineError(
        'integrity-failed',
        `cached ${file} in ${folder} ends at byte ${offset + filled}: delete this cached model and load it again`,
        { file },
      );
    }
    filled += bytesRead;
  }
  return bytes;
}

export async function statOrNull(file: string) {
  try {
    return await stat(file);
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
}

/** `device:inode` of a folder (bigint: inode numbers may pass 2^53), or null when there is none. */
export async function folderIdentity(folder: string): Promise<string | null> {
  try {
    const stats = await stat(folder, { bigint: true });
    return stats.isDirectory() ? `${stats.dev}:${stats.ino}` : null;
  } catch (error) {
    if (isMissing(error)) return null;
    throw fsError(path.dirname(folder), error);
  }
}

/** statfs needs a path that exists; before the first write the cache folder may not. */
export async function existingAncestor(dir: string): Promise<string> {
  for (let current = dir; ; current = path.dirname(current)) {
    if ((await statOrNull(current)) || path.dirname(current) === current) return current;
  }
}
