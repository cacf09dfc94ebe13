import { useCallback } from 'react';
import { chatKey, modelHistory } from './chat-controller';
import { contextUse } from './context-use';
import { useAutoScroll } from '../common/useAutoScroll';
import { useEscape } from '../common/useEscape';
import { useServices } from '../shell/useServices';
import { useStore } from '../common/useStore';
import { useThread } from '../conversations/useThread';
import type { ModelTab } from '../common/tabs';
import { AssistantMessage } from './AssistantMessage';
import { Composer } from './Composer';
import { ModelBar } from '../models/ModelBar';
import { Presets } from './Presets';
import { TokenView } from '../compare/TokenView';
import { UserMessage } from './UserMessage';

/** One model's conversation: model state, messages, presets when empty, and the message box. */
export function ChatTab({ tab, onSettings }: { tab: ModelTab; onSettings: () => void }) {
  const { chats, slots } = useServices();
  const key = chatKey(tab);
  const { thread, ready } = useThread(key);
  const running = useStore(chats.running)[key] !== undefined;
  const slot = useStore(slots.state)[tab.id];
  const busyElsewhere = !running && slot?.generating === true;
  const stop = useCallback(() => chats.stop(key), [chats, key]);
  useEscape(running, stop);
  const scroller = useAutoScroll<HTMLDivElement>(thread.messages);
  const lastIndex = thread.messages.length - 1;

  return (
    <div className="flex min-h-0 flex-1 flex-col">
      <div ref={scroller} className="min-h-0 flex-1 overflow-y-auto">
        <div className="mx-auto max-w-4xl space-y-4 p-3 sm:p-4">
          <ModelBar tab={tab} onSettings={onSettings} />
          {ready && thread.messages.length === 0 && <Presets disabled={running || busyElsewhere} onAsk={(prompt) => void chats.send(tab, prompt)} />}
          {thread.messages.map((message, index) =>
            message.role === 'user' ? (
              <UserMessage key={message.id} message={message} onResend={running ? undefined : (text) => void chats.editAndResend(tab, message.id, text)} />
            ) : (
              <AssistantMessage
                key={message.id}
                message={message}
                onSettings={onSettings}
                onRegenerate={index === lastIndex && !running ? () => void chats.regenerate(tab) : undefined}
                tokenView={<TokenView message={message} models={[tab]} history={() => modelHistory(thread.messages.slice(0, index))} settingsTab={tab.id} />}
              />
            ),
          )}
        </div>
      </div>
      <Composer
        running={running}
        blocked={busyElsewhere ? '이 모델이 비교 탭에서 답변 중입니다… (busy in Compare)' : undefined}
        onSend={(text) => void chats.send(tab, text)}
        onStop={stop}
        onNewChat={() => void chats.newChat(tab)}
        context={contextUse(thread.messages, slot?.info?.contextLength)}
        readyModels={slot?.status === 'ready' ? 1 : 0}
      />
    </div>
  );
}
