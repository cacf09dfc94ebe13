import { useState } from 'react';
import type { UiMessage } from '../conversations/threads';

/** The user's message, editable: editing drops what followed and asks again. */
export function UserMessage({ message, onResend }: { message: UiMessage; onResend?: (text: string) => void }) {
  const [draft, setDraft] = useState<string | null>(null);
  if (draft !== null && onResend) {
    return (
      <div className="ml-auto w-full max-w-[85%] space-y-2">
        <textarea
          data-testid="edit-input"
          className="input min-h-24 w-full"
          value={draft}
          onChange={(event) => setDraft(event.target.value)}
          autoFocus
        />
        <div className="flex justify-end gap-2">
          <button type="button" className="btn-ghost" onClick={() => setDraft(null)}>
            취소
          </button>
          <button
            type="button"
            className="btn-primary"
            data-testid="edit-send"
            disabled={draft.trim() === ''}
            onClick={() => {
              onResend(draft);
              setDraft(null);
            }}
          >
            수정해서 보내기
          </button>
        </div>
      </div>
    );
  }
  return (
    <div className="group ml-auto flex max-w-[85%] flex-col items-end">
      <div data-testid="message-user" className="whitespace-pre-wrap break-words rounded-2xl bg-sky-600 px-3 py-2 text-white dark:bg-sky-700">
        {message.content}
      </div>
      {onResend && (
        <button type="button" className="btn-ghost mt-0.5 text-xs" data-testid="edit-message" onClick={() => setDraft(message.content)}>
          수정 (Edit)
        </button>
      )}
    </div>
  );
}
