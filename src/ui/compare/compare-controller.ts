/**
 * Compare: one question to both models of the compare tab, each answering from its own side of
 * the history. When both models sit in their slots the answers stream at the same time; when
 * loading one evicted the other (the GPU cannot hold both), they run one after the other, each
 * reloaded from the browser cache, and the turn says so.
 */
import type { ChatMessage } from '../../chat/template';
import type { ChatController } from '../chat/chat-controller';
import type { CompareTab, ModelTab } from '../common/tabs';
import { newId, type CompareTurn, type Threads, type UiMessage } from '../conversations/threads';

export const compareKey = (tab: CompareTab) => `compare:${tab.models[0].repo}|${tab.models[1].repo}`;

/** Model `side`'s view of the turns before `turnId`: the questions and its own answers. */
export function sideHistory(turns: CompareTurn[], turnId: string, side: number): ChatMessage[] {
  const history: ChatMessage[] = [];
  for (const turn of turns) {
    if (turn.id === turnId) {
      history.push({ role: 'user', content: turn.prompt });
      break;
    }
    const answer = turn.answers[side];
    if (answer.state === 'error' || answer.content === '') continue;
    history.push({ role: 'user', content: turn.prompt }, { role: 'assistant', content: answer.content });
  }
  return history;
}

export class CompareController {
  constructor(
    private readonly chats: ChatController,
    private readonly threads: Threads,
  ) {}

  async send(tab: CompareTab, text: string): Promise<void> {
    const key = compareKey(tab);
    if (this.chats.isRunning(key) || text.trim() === '') return;
    const answer = (model: ModelTab): UiMessage => ({ id: newId(), role: 'assistant', content: '', state: 'waiting', repo: model.repo });
    const turn: CompareTurn = { id: newId(), prompt: text.trim(), answers: tab.models.map(answer) };
    this.threads.update(key, (thread) => ({ ...thread, turns: [...thread.turns, turn] }));
    await this.run(tab, key, turn);
  }

  /** Asks the last question again. */
  async regenerate(tab: CompareTab): Promise<void> {
    const key = compareKey(tab);
    const last = this.threads.thread(key).turns.at(-1);
    if (this.chats.isRunning(key) || !last) return;
    this.threads.update(key, (thread) => ({ ...thread, turns: thread.turns.slice(0, -1) }));
    await this.send(tab, last.prompt);
  }

  async newChat(tab: CompareTab): Promise<void> {
    await this.openConversation(tab);
  }

  /** Shows saved session `id` (a new one when undefined); the one shown before stays in the list. */
  async openConversation(tab: CompareTab, id?: string): Promise<void> {
    const key = compareKey(tab);
    if (id !== undefined && id === this.threads.activeId(key)) return;
    this.chats.stop(key);
    await this.threads.select(key, id);
  }

  private async run(tab: CompareTab, key: string, turn: CompareTurn): Promise<void> {
    const [left, right] = tab.models;
    this.chats.track(key, { slots: [left.id, right.id], generations: [], stopped: false });
    const one = async (side: number) => {
      const model = tab.models[side];
      const evicted = await this.chats.generateInto(model, key, turn.answers[side].id, () => sideHistory(this.threads.thread(key).turns, turn.id, side), 'compare');
      if (evicted.includes(tab.models[1 - side].id)) this.markSequential(key, turn.id);
    };
    try {
      const ready = (model: ModelTab) => this.chats.slots.get(model.id)?.status === 'ready';
      if (ready(left) && ready(right)) {
        await Promise.all([one(0), one(1)]);
      } else {
        // The model already on the GPU answers first, so at most one reload happens.
        const order = ready(right) ? [1, 0] : [0, 1];
        for (const side of order) {
          if (this.chats.isStopped(key)) this.threads.updateMessage(key, turn.answers[side].id, { state: 'stopped' });
          else await one(side);
        }
      }
    } finally {
      this.chats.track(key, undefined);
      await this.threads.flush();
    }
  }

  private markSequential(key: string, turnId: string): void {
    this.threads.update(key, (thread) => ({ ...thread, turns: thread.turns.map((t) => (t.id === turnId ? { ...t, sequential: true } : t)) }));
  }
}
