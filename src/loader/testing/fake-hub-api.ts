/**
 * Node only, test support: the fake hub's JSON API, in the shapes huggingface.co answers and
 * huggingface_hub's HfApi reads them:
 * - `/api/models/{repo}` and `/api/models/{repo}/revision/{revision}` (model_info): id, sha,
 *   tags (with `license:{id}`), cardData (the model card's YAML: `license`), gated, siblings
 *   (`rfilename`; with `?blobs=true` also `blobId`, `size` and `lfs`);
 * - `/api/models/{repo}/tree/{revision}[/{path}]` (list_repo_tree): one level, or everything
 *   with `?recursive=true`, as `{type, oid, size, path, lfs?: {oid, size, pointerSize}}`.
 */

import { createHash } from 'node:crypto';

export interface ApiFile {
  path: string;
  size: number;
  /** Git blob id (of the LFS pointer, for an LFS file). */
  blobSha1: string;
  /** Of the contents: the LFS object id. */
  sha256: string;
  lfs: boolean;
}

export interface ApiSnapshot {
  repo: string;
  commit: string;
  files: ApiFile[];
  /** The model card's `license` (an SPDX-like id such as `apache-2.0`, or `other`). */
  license?: string;
  gated: boolean;
}

/** A git LFS pointer file is about this long (`version ...\noid sha256:...\nsize ...\n`). */
const POINTER_BYTES = 134;
const CREATED = '2023-04-01T00:00:00.000Z';

/** The JSON for `route` (the path after `/api/models/{org}/{name}`), or undefined for a route the hub does not have. */
export function apiAnswer(snapshotOf: (revision: string) => ApiSnapshot | undefined, route: string[], query: URLSearchParams): { status: number; body: unknown } | undefined {
  if (route.length === 0 || (route[0] === 'revision' && route.length === 2)) {
    const snapshot = snapshotOf(route[1] ?? 'main');
    return snapshot ? { status: 200, body: modelInfo(snapshot, query.get('blobs') === 'true') } : revisionNotFound();
  }
  if (route[0] === 'tree' && route.length >= 2) {
    const snapshot = snapshotOf(route[1]);
    if (!snapshot) return revisionNotFound();
    const folder = route.slice(2).join('/');
    const entries = tree(snapshot.files, folder, query.get('recursive') === 'true');
    return entries.length === 0 && folder !== '' ? { status: 404, body: { error: `Entry not found: ${folder}` } } : { status: 200, body: entries };
  }
  return undefined;
}

function revisionNotFound() {
  return { status: 404, body: { error: 'Invalid rev id' } };
}

function modelInfo(snapshot: ApiSnapshot, blobs: boolean): unknown {
  const [author] = snapshot.repo.split('/');
  const weights = snapshot.files.some((f) => f.path.endsWith('.safetensors')) ? ['safetensors'] : ['pytorch'];
  return {
    _id: createHash('sha1').update(snapshot.repo).digest('hex').slice(0, 24),
    id: snapshot.repo,
    modelId: snapshot.repo,
    author,
    sha: snapshot.commit,
    lastModified: CREATED,
    createdAt: CREATED,
    private: false,
    disabled: false,
    gated: snapshot.gated ? 'manual' : false,
    library_name: 'transformers',
    pipeline_tag: 'text-generation',
    tags: ['transformers', ...weights, 'llama', 'text-generation', ...(snapshot.license ? [`license:${snapshot.license}`] : [])],
    downloads: 0,
    likes: 0,
    ...(snapshot.license ? { cardData: { license: snapshot.license } } : {}),
    siblings: snapshot.files.map((file) => ({
      rfilename: file.path,
      ...(blobs ? { blobId: file.blobSha1, size: file.size, ...(file.lfs ? { lfs: lfsInfo(file) } : {}) } : {}),
    })),
    usedStorage: snapshot.files.reduce((sum, file) => sum + file.size, 0),
  };
}

function tree(files: ApiFile[], folder: string, recursive: boolean): unknown[] {
  const prefix = folder === '' ? '' : `${folder}/`;
  const entries = new Map<string, unknown>();
  for (const file of files) {
    if (!file.path.startsWith(prefix)) continue;
    const rest = file.path.slice(prefix.length);
    const slash = rest.indexOf('/');
    if (slash < 0 || recursive) {
      entries.set(file.path, { type: 'file', oid: file.blobSha1, size: file.size, path: file.path, ...(file.lfs ? { lfs: lfsInfo(file) } : {}) });
    }
    // Each folder on the way is listed too (once), as the hub lists directories.
    const parts = rest.split('/').slice(0, -1);
    for (let depth = 1; depth <= (recursive ? parts.length : Math.min(1, parts.length)); depth++) {
      const path = prefix + parts.slice(0, depth).join('/');
      entries.set(path, { type: 'directory', oid: createHash('sha1').update(path).digest('hex'), size: 0, path });
    }
  }
  return [...entries.values()];
}

function lfsInfo(file: ApiFile) {
  return { oid: file.sha256, size: file.size, pointerSize: POINTER_BYTES };
}
