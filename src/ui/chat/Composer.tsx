import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { focusIsLost } from '../common/focus';
import type { ContextUse } from './context-use';
import { ContextMeter } from './ContextMeter';

interface Props {
  running: boolean;
  /** Why sending is not possible now (shown as the placeholder); undefined when it is. */
  blocked?: string;
  onSend: (text: string) => void;
  onStop: () => void;
  onNewChat: () => void;
  /** How full the model's context is, when known (chat tabs). */
  context?: ContextUse;
  /** How many of the tab's models are loaded: one more, and focus left nowhere (a Load button gone) comes here. */
  readyModels?: number;
}

/**
 * The message box. Enter sends, Shift+Enter is a newline. While a Korean IME is composing a
 * syllable, Enter belongs to the IME (it commits the syllable): sending then would send the text
 * without its last syllable and leave that syllable in the box, so composition keys never send.
 */
export function Composer({ running, blocked, onSend, onStop, onNewChat, context, readyModels = 0 }: Props) {
  const [text, setText] = useState('');
  const box = useRef<HTMLTextAreaElement>(null);
  const bar = useRef<HTMLDivElement>(null);
  const hintId = useId();
  // When an answer ends, the keyboard goes back to the message box: from the Stop button, or
  // from nowhere (the preset, Send or Regenerate button that started it is gone). Focus the user
  // put elsewhere (a panel, an older answer) stays where it is.
  const was = useRef({ running, readyModels });
  useEffect(() => {
    const ended = was.current.running && !running;
    const loaded = readyModels > was.current.readyModels;
    was.current = { running, readyModels };
    if ((ended && (focusIsLost() || bar.current?.contains(document.activeElement))) || (loaded && focusIsLost())) box.current?.focus();
  }, [running, readyModels]);
  const canSend = !running && !blocked && text.trim() !== '';
  const send = () => {
    if (!canSend) return;
    onSend(text);
    setText('');
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    // keyCode 229 is what browsers report for keys the IME handles (Safari ends composition before keydown).
    if (event.nativeEvent.isComposing || event.keyCode === 229) return;
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      send();
    }
  };
  return (
    <div ref={bar} className="border-t border-zinc-200 bg-zinc-50/90 p-3 backdrop-blur dark:border-zinc-800 dark:bg-zinc-950/90">
      <div className="mx-auto flex max-w-4xl items-end gap-2">
        <button type="button" className="btn-ghost shrink-0 px-2" onClick={onNewChat} data-testid="new-chat" title="새 대화 (New chat)" aria-label="새 대화 (New chat)">
          <span aria-hidden className="sm:hidden">＋</span>
          <span className="hidden sm:inline">새 대화</span>
        </button>
        <textarea
          ref={box}
          data-testid="chat-input"
          className="input max-h-48 min-h-11 flex-1 resize-none"
          rows={Math.min(6, Math.max(1, text.split('\n').length))}
          placeholder={blocked ?? '메시지를 입력하세요'}
          value={text}
          onChange={(event) => setText(event.target.value)}
          onKeyDown={onKeyDown}
          aria-label="메시지 (message)"
          aria-describedby={hintId}
        />
        {running ? (
          <button type="button" className="btn-danger shrink-0" onClick={onStop} data-testid="stop" title="Esc">
            중지 (Esc)
          </button>
        ) : (
          <button type="button" className="btn-primary shrink-0" onClick={send} disabled={!canSend} data-testid="send">
            보내기
          </button>
        )}
      </div>
      <div className="mx-auto mt-1 flex max-w-4xl items-center justify-between gap-3 sm:pl-20">
        <p id={hintId} className="hidden text-xs text-zinc-500 sm:block dark:text-zinc-400">Enter 보내기 · Shift+Enter 줄바꿈 · Esc 중지</p>
        {context && <ContextMeter use={context} />}
      </div>
    </div>
  );
}
