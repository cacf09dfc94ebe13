/** Resolves `--model` to a FileSource: a local folder, or (org/name) the hub. */
import { stat } from 'node:fs/promises';
import { EngineError } from '../errors';
import { LocalFolderSource } from '../loader/sources/local-folder';
import type { FileSource } from '../loader/types';
import type { Flags } from './args';

export async function openModelSource(flags: Flags): Promise<FileSource> {
  const model = flags.model;
  if (typeof model !== 'string' || model === '') throw new EngineError('bad-input', '--model is required (a folder or org/name)');
  const info = await stat(model).catch(() => null);
  if (info?.isDirectory()) return new LocalFolderSource(model);
  throw new EngineError('not-found', `--model ${model}: no such folder`);
}
