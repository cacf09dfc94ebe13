import { useEffect, useRef } from 'react';
import { announce } from '../common/announcer';
import { isPending, type UiMessage } from '../conversations/threads';
import { settledLength, speakable } from './speech';

/**
 * Reads a streaming answer to screen readers through the app's live region: in `sentences`
 * (a chat), each sentence once it is complete and the rest when the answer ends; in `settled`
 * (Compare, where two answers stream at once and would talk over each other), the whole answer,
 * after its `label`, once it ends. Text already there when the message appeared (history, a
 * reload, a tab switched back to) is not read again.
 */
export function useAnnounceAnswer(message: UiMessage, mode: 'sentences' | 'settled', label?: string): void {
  const spoken = useRef(message.content.length);
  const wasPending = useRef(isPending(message));
  const { content, state } = message;
  useEffect(() => {
    const pending = state === 'waiting' || state === 'loading' || state === 'streaming';
    const ended = wasPending.current && !pending;
    if (pending) wasPending.current = true;
    if (content.length < spoken.current) spoken.current = 0;
    if (mode === 'sentences' || ended) {
      const end = settledLength(content, spoken.current, !pending);
      if (end > spoken.current) {
        const words = speakable(content.slice(spoken.current, end));
        announce(mode === 'settled' && label ? `${label}: ${words}` : words);
        spoken.current = end;
      }
    }
    if (ended) {
      wasPending.current = false;
      if (state === 'stopped') announce(label ? `${label}: 답변 중지됨 (stopped)` : '답변 중지됨 (stopped)');
    }
  }, [content, state, mode, label]);
}
