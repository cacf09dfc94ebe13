/** Node-side helpers for tiny test models: the shared tokenizer fixture, and writing a repo folder. */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildTinyModel, type TinyModel, type TinyModelSpec } from './tiny-model';

/** The checkout's root: the nearest folder up from this module (or its bundle) holding shaders/. */
export const REPO_ROOT = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'shaders')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
})();

/** The real LLaMA tokenizer.model, kept beside the repo in ../shared/fixtures. */
export async function llamaTokenizerModel(): Promise<Uint8Array> {
  const file = path.resolve(REPO_ROOT, '../shared/fixtures/llama-tokenizer.model');
  try {
    return new Uint8Array(await readFile(file));
  } catch (error) {
    throw new Error(`The LLaMA tokenizer fixture is missing at ${file} (expected ../shared beside the repo)`, { cause: error });
  }
}

export async function buildTinyModelWithTokenizer(spec: Omit<TinyModelSpec, 'tokenizerModel'>): Promise<TinyModel> {
  return buildTinyModel({ ...spec, tokenizerModel: await llamaTokenizerModel() });
}

/** Writes a tiny repo into `dir` (created) and returns the model. */
export async function writeTinyModel(dir: string, spec: Omit<TinyModelSpec, 'tokenizerModel'>): Promise<TinyModel> {
  const model = await buildTinyModelWithTokenizer(spec);
  await mkdir(dir, { recursive: true });
  for (const [name, bytes] of model.files) await writeFile(path.join(dir, name), bytes);
  return model;
}
