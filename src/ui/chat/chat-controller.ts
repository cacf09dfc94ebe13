/**
 * What the chat tabs do, outside React: send a message (loading the tab's model first when it is
 * not in its slot, e.g. after an eviction or a lost device), stream the answer into the thread,
 * stop, regenerate, edit-and-resend, new chat, open a saved one. Each model tab's slot is its tab id.
 */
import type { ChatMessage } from '../../chat/template';
import { toErrorData } from '../../errors';
import { WorkerBackend } from '../../api/backend';
import { EngineApi } from '../../api/engine-api';
import type { EngineClient } from '../../worker/client';
import type { LoadedInfo } from '../../worker/protocol';
import type { ModelSlots, LoadTarget } from '../models/model-slots';
import { chatSettings, type SettingsStore } from '../settings/settings';
import { Store } from '../common/store';
import type { ModelTab } from '../common/tabs';
import { newId, type Threads, type UiMessage } from '../conversations/threads';

/** What a conversation is waiting on; `stopped` once the user pressed Stop. */
export interface Running {
  slots: string[];
  /** One per answer being written (or waiting for its model): aborting stops it, keeping what it wrote. */
  generations: AbortController[];
  stopped: boolean;
}

export const chatKey = (tab: ModelTab) => `chat:${tab.id}:${tab.repo}`;

/** The conversation as the model sees it: failed answers and the question they failed on left out. */
export function modelHistory(messages: UiMessage[]): ChatMessage[] {
  const history: ChatMessage[] = [];
  messages.forEach((message, index) => {
    const next = messages[index + 1];
    if (message.role === 'assistant' && (message.state === 'error' || message.content === '')) return;
    if (message.role === 'user' && next?.role === 'assistant' && next.state === 'error') return;
    history.push({ role: message.role, content: message.content });
  });
  return history;
}

export class ChatController {
  /** Conversation key -> requests in flight (loads and generations) that Stop ends. */
  readonly running = new Store<Record<string, Running>>({});

  /**
   * `engine`: the OpenAI-shaped client the library and `serve` use too (api/engine-api.ts); its
   * per-model queue lets one model answer one request at a time, whichever tab or run asks.
   */
  constructor(
    private readonly client: EngineClient,
    readonly slots: ModelSlots,
    private readonly settings: SettingsStore,
    private readonly threads: Threads,
    readonly engine: EngineApi = appEngine(client, slots),
  ) {}

  target(tab: ModelTab): LoadTarget {
    const { dtype, contextLength } = this.settings.get();
    return { repo: tab.repo, dtype, contextLength, endpoint: this.settings.hub(), token: this.settings.token() };
  }

  /** Loads the tab's model (Load button, after a lost device); the outcome shows in its slot state. */
  load(tab: ModelTab): void {
    void this.ensure(tab).catch(() => undefined);
  }

  /** The tab's model in its slot; its generation_config.json's sampling becomes the tab's defaults. */
  private async ensure(tab: ModelTab): Promise<LoadedInfo> {
    const info = await this.slots.ensure(tab.id, this.target(tab));
    this.settings.setRepoDefaults(tab.repo, info.generationDefaults);
    return info;
  }

  isRunning(key: string): boolean {
    return this.running.get()[key] !== undefined;
  }

  async send(tab: ModelTab, text: string): Promise<void> {
    const key = chatKey(tab);
    if (this.isRunning(key) || text.trim() === '') return;
    const answer: UiMessage = { id: newId(), role: 'assistant', content: '', state: 'waiting', repo: tab.repo };
    this.threads.update(key, (thread) => ({ ...thread, messages: [...thread.messages, { id: newId(), role: 'user', content: text.trim() }, answer] }));
    await this.answer(tab, key, answer.id);
  }

  async regenerate(tab: ModelTab): Promise<void> {
    const key = chatKey(tab);
    const messages = this.threads.thread(key).messages;
    if (this.isRunning(key) || messages.at(-1)?.role !== 'assistant') return;
    const answer: UiMessage = { id: newId(), role: 'assistant', content: '', state: 'waiting', repo: tab.repo };
    this.threads.update(key, (thread) => ({ ...thread, messages: [...thread.messages.slice(0, -1), answer] }));
    await this.answer(tab, key, answer.id);
  }

  /** Replaces user message `id` with `text`, drops everything after it, and asks again. */
  async editAndResend(tab: ModelTab, id: string, text: string): Promise<void> {
    const key = chatKey(tab);
    const index = this.threads.thread(key).messages.findIndex((m) => m.id === id);
    if (this.isRunning(key) || index < 0) return;
    this.threads.update(key, (thread) => ({ ...thread, messages: thread.messages.slice(0, index) }));
    await this.send(tab, text);
  }

  async newChat(tab: ModelTab): Promise<void> {
    await this.openConversation(tab);
  }

  /**
   * Shows saved conversation `id` in the tab (a new one when undefined); the one shown before
   * stays in the list. The worker's KV cache holds the old conversation: reset it, as New chat does.
   */
  async openConversation(tab: ModelTab, id?: string): Promise<void> {
    const key = chatKey(tab);
    if (id !== undefined && id === this.threads.activeId(key)) return;
    this.stop(key);
    await this.threads.select(key, id);
    if (this.slots.get(tab.id)?.status === 'ready') await this.client.reset(tab.id);
  }

  isStopped(key: string): boolean {
    return this.running.get()[key]?.stopped === true;
  }

  /** Stops whatever `key` is waiting on: the model load and the generation. */
  stop(key: string): void {
    const running = this.running.get()[key];
    if (!running) return;
    this.track(key, { ...running, stopped: true });
    running.slots.forEach((slot) => this.slots.cancel(slot));
    running.generations.forEach((generation) => generation.abort());
  }

  private async answer(tab: ModelTab, key: string, answerId: string): Promise<void> {
    this.track(key, { slots: [tab.id], generations: [], stopped: false });
    try {
      await this.generateInto(tab, key, answerId, () => {
        const messages = this.threads.thread(key).messages;
        return modelHistory(messages.slice(0, messages.findIndex((m) => m.id === answerId)));
      }, tab.id);
    } finally {
      this.track(key, undefined);
      await this.threads.flush();
    }
  }

  /**
   * Loads the tab's model if needed, then streams one answer into message `answerId`.
   * Never throws: the outcome is written into the message. Returns whether the slot evicted others.
   */
  async generateInto(tab: ModelTab, key: string, answerId: string, history: () => ChatMessage[], settingsTab: string): Promise<string[]> {
    let evicted: string[] = [];
    let failedAt: UiMessage['failedAt'] = 'load';
    try {
      this.threads.updateMessage(key, answerId, { state: 'loading' });
      const target = this.target(tab);
      evicted = (await this.ensure(tab)).evicted;
      if (this.isStopped(key)) throw new DOMException('Stopped', 'AbortError');
      failedAt = 'generate';
      // A chat tab's own settings follow its model's generation_config.json; Compare's are shared.
      const settings = chatSettings(this.settings.tab(settingsTab, settingsTab === tab.id ? tab.repo : undefined));
      this.threads.updateMessage(key, answerId, { state: 'streaming', settings: { ...settings, dtype: target.dtype, contextLength: target.contextLength } });
      this.slots.setGenerating(tab.id, true);
      const generation = new AbortController();
      this.track(key, (running) => ({ slots: running?.slots ?? [], stopped: running?.stopped ?? false, generations: [...(running?.generations ?? []), generation] }));
      const result = await this.engine.generate(tab.id, { messages: history() }, settings, {
        signal: generation.signal,
        onText: (text) => this.threads.updateMessage(key, answerId, (message) => ({ content: message.content + text })),
      });
      if (result.notice) this.slots.setTemplateNotice(tab.id, result.notice);
      const state = result.finishReason === 'cancelled' ? 'stopped' : 'done';
      this.threads.updateMessage(key, answerId, { content: result.text, ids: result.ids, state, stats: result.stats, finishReason: result.finishReason });
    } catch (error) {
      const data = toErrorData(error);
      this.threads.updateMessage(key, answerId, data.code === 'cancelled' ? { state: 'stopped' } : { state: 'error', error: data, failedAt });
    } finally {
      this.slots.setGenerating(tab.id, false);
    }
    return evicted;
  }

  track(key: string, change: Running | undefined | ((current?: Running) => Running)): void {
    this.running.set((all) => {
      const next = { ...all };
      const value = typeof change === 'function' ? change(all[key]) : change;
      if (value === undefined) delete next[key];
      else next[key] = value;
      return next;
    });
  }
}

/** The app's engine client over its worker: each model id is a tab's slot; the ready ones are listed. */
export function appEngine(client: EngineClient, slots: ModelSlots): EngineApi {
  const loadedAt = Math.floor(Date.now() / 1000);
  return new EngineApi(new WorkerBackend(client), {
    models: () =>
      Object.entries(slots.state.get())
        .filter(([, slot]) => slot.status === 'ready')
        .map(([id]) => ({ id, created: loadedAt })),
  });
}
