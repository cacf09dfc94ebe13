import { useState } from 'react';
import { isRepoId } from '../common/tabs';
import { KOREAN_REPOS } from './korean-repos';

/**
 * The custom tab's repo: any supported repo on the hub, as org/name, or one of a short list of
 * Korean-capable models, each with its license shown before anything downloads.
 */
export function CustomRepoForm({ repo, onOpen }: { repo: string; onOpen: (repo: string) => void }) {
  const [draft, setDraft] = useState(repo);
  const valid = isRepoId(draft.trim());
  return (
    <div className="space-y-2">
      <RepoForm draft={draft} setDraft={setDraft} valid={valid} repo={repo} onOpen={onOpen} />
      {/* Open while the tab has no repo; folded away (one click) once one is chosen. */}
      <details open={repo === ''} data-testid="korean-repos-panel" className="rounded-xl border border-zinc-200 p-3 text-sm dark:border-zinc-800">
        <summary className="cursor-pointer font-medium">한국어 모델 (Korean-capable models): 라이선스를 확인하고 고르세요</summary>
        <ul data-testid="korean-repos" className="mt-2 space-y-1">
          {KOREAN_REPOS.map((suggested, index) => (
            <li key={suggested.repo} className="flex flex-wrap items-baseline gap-x-2">
              <button
                type="button"
                className="font-mono text-xs underline disabled:no-underline"
                data-testid={`korean-repo-${index}`}
                data-repo={suggested.repo}
                disabled={suggested.repo === repo}
                onClick={() => {
                  setDraft(suggested.repo);
                  onOpen(suggested.repo);
                }}
              >
                {suggested.repo}
              </button>
              <span className="text-xs text-zinc-500">
                {suggested.params} · {suggested.about}
                {suggested.gated ? ' · 승인·토큰 필요 (gated)' : ''}
              </span>
              <span className="text-xs" data-testid={`korean-repo-license-${index}`}>
                라이선스: {suggested.license}
              </span>
            </li>
          ))}
        </ul>
      </details>
    </div>
  );
}

function RepoForm({ draft, setDraft, valid, repo, onOpen }: { draft: string; setDraft: (draft: string) => void; valid: boolean; repo: string; onOpen: (repo: string) => void }) {
  return (
    <form
      className="flex flex-wrap items-end gap-2 rounded-xl border border-zinc-200 p-3 dark:border-zinc-800"
      onSubmit={(event) => {
        event.preventDefault();
        if (valid) onOpen(draft.trim());
      }}
    >
      <label className="min-w-0 flex-1 text-sm">
        <span className="font-medium">허브 저장소 (org/name)</span>
        <input
          data-testid="custom-repo-input"
          className="input mt-1 w-full font-mono"
          value={draft}
          placeholder="예: ureca07/korean-vicuna-7b-1.1"
          onChange={(event) => setDraft(event.target.value)}
          spellCheck={false}
          autoCapitalize="off"
        />
      </label>
      <button type="submit" className="btn-primary" disabled={!valid || draft.trim() === repo} data-testid="custom-repo-open">
        열기
      </button>
      {!valid && draft !== '' && <p className="w-full text-xs text-rose-700 dark:text-rose-300">org/name 형식으로 입력하세요.</p>}
    </form>
  );
}
