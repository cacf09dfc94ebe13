import { useCallback, useDeferredValue, useEffect, useLayoutEffect, useMemo, useRef, useState, type ChangeEvent } from 'react';
import { toErrorData, type ErrorData } from '../../errors';
import { conversationKey } from './conversation-actions';
import { checkImportSize } from './conversation-file';
import { queryTerms, searchConversations } from './conversation-search';
import { downloadText } from '../common/download';
import { useServices } from '../shell/useServices';
import { useStore } from '../common/useStore';
import type { Tab } from '../common/tabs';
import type { Removed } from './threads';
import { ConversationItem } from './ConversationItem';
import { Drawer } from '../common/Drawer';
import { ErrorPanel } from '../common/ErrorPanel';
import { focusIsLost } from '../common/focus';

const UNDO_MS = 10_000;

interface Props {
  tab: Tab;
  tabs: Tab[];
  /** Shows another tab (an import that belongs there). */
  onShowTab: (index: number) => void;
  /** A column beside the chat, or (on a phone) a drawer over it that closes once a conversation opens. */
  variant: 'docked' | 'drawer';
  onClose: () => void;
}

/** The open tab's saved conversations (Compare's sessions in Compare): search, open, rename, delete, export, import. */
export function ConversationPanel({ tab, tabs, onShowTab, variant, onClose }: Props) {
  const list = <ConversationList tab={tab} tabs={tabs} onShowTab={onShowTab} onOpened={variant === 'drawer' ? onClose : undefined} />;
  if (variant === 'drawer') {
    return (
      <Drawer side="left" title="대화 목록 (Conversations)" testId="conversation-panel" onClose={onClose}>
        {list}
      </Drawer>
    );
  }
  return (
    <aside data-testid="conversation-panel" aria-label="대화 목록 (Conversations)" className="w-72 shrink-0 space-y-3 overflow-y-auto border-r border-zinc-200 bg-white p-3 dark:border-zinc-800 dark:bg-zinc-900">
      {list}
    </aside>
  );
}

function ConversationList({ tab, tabs, onShowTab, onOpened }: { tab: Tab; tabs: Tab[]; onShowTab: (index: number) => void; onOpened?: () => void }) {
  const { threads, conversations } = useServices();
  const key = conversationKey(tab);
  const index = useStore(threads.index);
  const activeId = useStore(threads.active)[key];
  const failure = useStore(threads.failure);
  const [query, setQuery] = useState('');
  const deferredQuery = useDeferredValue(query);
  // The tab whose conversations' messages are read, so that search sees them.
  const [readKey, setReadKey] = useState<string>();
  const [removed, setRemoved] = useState<Removed>();
  const [error, setError] = useState<ErrorData>();

  // `index` changes whenever the list does: list() reads it.
  const saved = useMemo(() => threads.list(key), [threads, index, key]);
  const searching = queryTerms(deferredQuery).length > 0;
  const contentsRead = readKey === key;
  const readContents = useCallback(() => {
    if (!contentsRead) void threads.read(saved.map((meta) => meta.id)).then(() => setReadKey(key));
  }, [threads, saved, key, contentsRead]);
  useEffect(() => {
    if (searching) readContents();
  }, [searching, readContents]);
  // contentsRead: searched again once the messages are read.
  const hits = useMemo(() => searchConversations(saved, deferredQuery, (id) => threads.state.get()[id]), [saved, deferredQuery, threads, contentsRead]);

  // A row deleted from the keyboard takes its buttons with it: focus goes to Undo.
  const undo = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (removed && focusIsLost()) undo.current?.focus();
  }, [removed]);
  useEffect(() => {
    if (!removed) return;
    const timer = setTimeout(() => setRemoved(undefined), UNDO_MS);
    return () => clearTimeout(timer);
  }, [removed]);

  // The rows' handlers stay the same functions across renders (ConversationItem is memoised).
  const latest = useRef({ tab, onOpened });
  useLayoutEffect(() => {
    latest.current = { tab, onOpened };
  });
  const open = useCallback((id: string) => void conversations.open(latest.current.tab, id).then(() => latest.current.onOpened?.()), [conversations]);
  const rename = useCallback((id: string, title: string) => threads.rename(id, title), [threads]);
  const remove = useCallback((id: string) => void conversations.remove(latest.current.tab, id).then(setRemoved), [conversations]);

  const save = (format: 'markdown' | 'json') => {
    const file = conversations.exportFile(tab, format);
    if (file) downloadText(file.name, file.text, file.type);
  };
  const importFile = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.currentTarget.files?.[0];
    event.currentTarget.value = ''; // the same file can be chosen again
    if (!file) return;
    setError(undefined);
    try {
      checkImportSize(file.size);
      const target = await conversations.importFile(await file.text(), tab, tabs);
      setQuery('');
      if (target.id !== tab.id) onShowTab(tabs.indexOf(target));
      onOpened?.();
    } catch (caught) {
      setError(toErrorData(caught));
    }
  };
  const canExport = activeId !== undefined && saved.some((meta) => meta.id === activeId);

  return (
    <>
      <input
        type="search"
        data-testid="conversation-search"
        className="input w-full"
        placeholder="대화 검색 (search)"
        aria-label="대화 검색 (search)"
        value={query}
        onFocus={readContents}
        onChange={(event) => setQuery(event.target.value)}
      />
      <div className="flex flex-wrap items-center gap-x-0.5 text-sm">
        <span className="mr-1 text-xs text-zinc-500">내보내기</span>
        <button type="button" className="btn-ghost" data-testid="export-markdown" disabled={!canExport} onClick={() => save('markdown')} title="이 대화를 Markdown으로 내보내기 (export)">
          Markdown
        </button>
        <button type="button" className="btn-ghost" data-testid="export-json" disabled={!canExport} onClick={() => save('json')} title="이 대화를 JSON으로 내보내기 (export)">
          JSON
        </button>
        <label data-testid="import-json" className="btn-ghost ml-auto cursor-pointer focus-within:ring-2 focus-within:ring-sky-500" title="JSON으로 내보낸 대화를 새 대화로 가져오기 (import JSON)">
          가져오기
          <input type="file" accept=".json,application/json" className="sr-only" onChange={(event) => void importFile(event)} />
        </label>
      </div>
      {error && (
        <div data-testid="import-error">
          <ErrorPanel error={error} compact onDismiss={() => setError(undefined)} />
        </div>
      )}
      {failure && <ErrorPanel error={failure} compact />}
      {removed && (
        <div className="notice flex items-center justify-between gap-2" data-testid="deleted-notice">
          <span className="min-w-0 truncate">‘{removed.meta.title}’ 삭제됨</span>
          <button ref={undo} type="button" className="btn-ghost shrink-0" data-testid="undo-delete" onClick={() => void threads.restore(removed).then(() => setRemoved(undefined))}>
            되돌리기 (Undo)
          </button>
        </div>
      )}
      <ul data-testid="conversation-list" aria-label="저장된 대화 (saved conversations)" className="space-y-0.5" data-count={hits.length}>
        {hits.map((hit) => (
          <ConversationItem key={hit.meta.id} meta={hit.meta} active={hit.meta.id === activeId} snippet={hit.snippet} onOpen={open} onRename={rename} onDelete={remove} />
        ))}
        {hits.length === 0 && (
          <li className="px-2 py-3 text-sm text-zinc-500" data-testid="conversation-empty">
            {searching
              ? contentsRead
                ? `‘${deferredQuery.trim()}’이(가) 들어간 대화가 없습니다 (no match).`
                : '대화 내용을 불러오는 중… (reading)'
              : '저장된 대화가 없습니다. 보낸 대화는 여기에 저장되고, 새 대화를 시작해도 남습니다.'}
          </li>
        )}
      </ul>
    </>
  );
}
