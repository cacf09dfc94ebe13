/**
 * The app's tabs: two model tabs (Korean-Vicuna, base LLaMA), Compare, and a custom tab for any
 * LLaMA-architecture hub repo. A model tab's id is also its worker slot, so Compare reuses the
 * models the chat tabs loaded instead of holding a second copy of each on the GPU.
 */
export interface ModelTab {
  kind: 'model';
  id: string;
  title: string;
  /** org/name on the hub; empty for a custom tab that has none yet. */
  repo: string;
  custom: boolean;
}

export interface CompareTab {
  kind: 'compare';
  id: 'compare';
  title: string;
  /** The two model tabs compared, left then right. */
  models: [ModelTab, ModelTab];
}

export type Tab = ModelTab | CompareTab;

export const KOREAN_VICUNA_REPO = 'ureca07/korean-vicuna-7b-1.1';
export const LLAMA_REPO = 'huggyllama/llama-7b';

/** A hub repo id as the hub accepts it: org/name of letters, digits, '-', '_', '.'. */
export function isRepoId(text: string): boolean {
  return /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/.test(text) && !text.includes('..');
}

/**
 * `urlModels` (the page's repeatable `model=` parameters) replace, in order, the Korean-Vicuna
 * repo, the base LLaMA repo and the custom tab's repo.
 */
export function buildTabs(urlModels: string[], customRepo: string): Tab[] {
  const named = (id: string, title: string, repo: string, override?: string): ModelTab => ({
    kind: 'model',
    id,
    title: override ? shortName(override) : title,
    repo: override ?? repo,
    custom: false,
  });
  const vicuna = named('vicuna', 'Korean-Vicuna 7B', KOREAN_VICUNA_REPO, urlModels[0]);
  const llama = named('llama', 'LLaMA 7B (base)', LLAMA_REPO, urlModels[1]);
  const customRepoId = urlModels[2] ?? customRepo;
  const custom: ModelTab = { kind: 'model', id: 'custom', title: customRepoId ? shortName(customRepoId) : '직접 입력 (Custom)', repo: customRepoId, custom: true };
  return [vicuna, llama, { kind: 'compare', id: 'compare', title: '비교 (Compare)', models: [vicuna, llama] }, custom];
}

export function shortName(repo: string): string {
  return repo.split('/').pop() ?? repo;
}

export interface UrlOptions {
  hub?: string;
  models: string[];
}

/** `?hub=<endpoint>&model=<org/name>&model=...`; invalid values are ignored, not guessed at. */
export function readUrlOptions(search: string): UrlOptions {
  const params = new URLSearchParams(search);
  const hub = params.get('hub') ?? undefined;
  const validHub = hub !== undefined && /^https?:\/\/[^\s]+$/.test(hub) ? hub.replace(/\/+$/, '') : undefined;
  return { hub: validHub, models: params.getAll('model').filter(isRepoId) };
}
