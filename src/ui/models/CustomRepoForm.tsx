import { useState } from 'react';
import { isRepoId } from '../common/tabs';

/** The custom tab's repo: any LLaMA-architecture repo on the hub, as org/name. */
export function CustomRepoForm({ repo, onOpen }: { repo: string; onOpen: (repo: string) => void }) {
  const [draft, setDraft] = useState(repo);
  const valid = isRepoId(draft.trim());
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
      {!valid && draft !== '' && <p className="w-full text-xs text-rose-600">org/name 형식으로 입력하세요 (LLaMA 구조 모델).</p>}
    </form>
  );
}
