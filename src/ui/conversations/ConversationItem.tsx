import { memo, useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { Snippet } from './conversation-search';
import type { ConversationMeta } from './conversation-store';
import { formatDateTime, formatShortDate } from '../common/format';
import { shortName } from '../common/tabs';

interface Props {
  meta: ConversationMeta;
  active: boolean;
  snippet?: Snippet;
  onOpen: (id: string) => void;
  onRename: (id: string, title: string) => void;
  onDelete: (id: string) => void;
}

/** One saved conversation: title, date, model(s) and length; open, rename in place, delete. Memoised: a list of 500 re-renders only the rows that changed. */
export const ConversationItem = memo(function ConversationItem({ meta, active, snippet, onOpen, onRename, onDelete }: Props) {
  const [draft, setDraft] = useState<string | null>(null);
  // A rename ended from the keyboard (Enter, Esc) puts focus back on the rename button.
  const renameButton = useRef<HTMLButtonElement>(null);
  const refocus = useRef(false);
  useEffect(() => {
    if (draft !== null || !refocus.current) return;
    refocus.current = false;
    renameButton.current?.focus();
  }, [draft]);
  const finish = (save: boolean) => {
    if (save && draft !== null && draft !== meta.title) onRename(meta.id, draft);
    setDraft(null);
  };
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    // Enter while a Korean IME composes commits the syllable, not the name (see Composer).
    if (event.nativeEvent.isComposing || event.keyCode === 229) return;
    if (event.key === 'Enter') {
      // No keypress after this keydown: it would reach the rename button, focused meanwhile, and reopen the field.
      event.preventDefault();
      refocus.current = true;
      finish(true);
    }
    if (event.key === 'Escape') {
      // Esc cancels the rename only, not the drawer around it or an answer in progress.
      event.stopPropagation();
      refocus.current = true;
      finish(false);
    }
  };
  return (
    <li
      data-testid="conversation-item"
      data-id={meta.id}
      data-active={active}
      aria-current={active || undefined}
      // Rows scrolled out of view skip layout and paint: 500 of them cost what a screenful does.
      className={`flex items-start gap-0.5 rounded-lg px-2 py-1.5 [contain-intrinsic-size:auto_3.25rem] [content-visibility:auto] ${active ? 'bg-sky-100 dark:bg-sky-900/40' : 'hover:bg-zinc-100 dark:hover:bg-zinc-800'}`}
    >
      {draft !== null ? (
        <input
          data-testid="rename-input"
          className="input min-w-0 flex-1 px-2 py-1"
          value={draft}
          maxLength={200}
          autoFocus
          aria-label="대화 이름 (name)"
          onChange={(event) => setDraft(event.target.value)}
          onKeyDown={onKeyDown}
          onBlur={() => finish(true)}
        />
      ) : (
        <>
          <button type="button" className="min-w-0 flex-1 text-left" data-testid="conversation-open" onClick={() => onOpen(meta.id)}>
            <span className="block truncate text-sm font-medium" data-testid="conversation-title">
              {meta.title}
            </span>
            <span className="block truncate text-xs text-zinc-500 dark:text-zinc-400" title={`${formatDateTime(meta.createdAt)} – ${formatDateTime(meta.updatedAt)} · ${meta.models.join(', ')}`}>
              {formatShortDate(meta.updatedAt)} · {meta.models.map(shortName).join(' vs ') || '—'} · 메시지 {meta.messageCount}
            </span>
            {snippet && (
              <span className="mt-0.5 block truncate text-xs text-zinc-600 dark:text-zinc-300" data-testid="conversation-snippet">
                {snippet.before}
                <mark className="rounded bg-amber-200 px-0.5 text-inherit dark:bg-amber-700/60">{snippet.match}</mark>
                {snippet.after}
              </span>
            )}
          </button>
          <button ref={renameButton} type="button" className="btn-ghost shrink-0 px-1.5" data-testid="rename-conversation" title="이름 바꾸기 (rename)" aria-label="이름 바꾸기 (rename)" onClick={() => setDraft(meta.title)}>
            ✎
          </button>
          <button type="button" className="btn-danger-ghost shrink-0 px-1.5" data-testid="delete-conversation" title="삭제 (delete)" aria-label="삭제 (delete)" onClick={() => onDelete(meta.id)}>
            ✕
          </button>
        </>
      )}
    </li>
  );
});
