/**
 * The UI's controllers over a scripted stand-in for the engine worker (no GPU, no DOM): chat
 * history, Compare's order and its "one after the other" mode when the GPU holds one model,
 * Stop during a load, and recovery after a lost device.
 */
import { describe, expect, it } from 'vitest';
import { EngineClient } from '../../worker/client';
import { ChatController, chatKey, modelHistory } from './chat-controller';
import { CompareController, compareKey } from '../compare/compare-controller';
import { ModelSlots } from '../models/model-slots';
import { DEFAULT_SETTINGS, SettingsStore } from '../settings/settings';
import { buildTabs, readUrlOptions, type CompareTab, type ModelTab } from '../common/tabs';
import { FakeWorker, memoryStorage } from '../testing/fake-worker';
import { Threads } from '../conversations/threads';

function setup(capacity: number, loadTicks = 1) {
  const worker = new FakeWorker(capacity, loadTicks);
  const client = new EngineClient(worker);
  const { storage } = memoryStorage();
  const slots = new ModelSlots(client);
  const threads = new Threads(storage);
  const settings = new SettingsStore(DEFAULT_SETTINGS);
  const chats = new ChatController(client, slots, settings, threads);
  const tabs = buildTabs(['test/a', 'test/b'], '');
  return { worker, slots, threads, chats, settings, compare: new CompareController(chats, threads), storage, left: tabs[0] as ModelTab, right: tabs[1] as ModelTab, compareTab: tabs[2] as CompareTab };
}

describe('chat controller', () => {
  it('loads the model, streams the answer, and sends the whole conversation next time; the thread is saved', async () => {
    const { worker, chats, threads, left, storage } = setup(2);
    await chats.send(left, '  첫 질문 ');
    await chats.send(left, '둘째 질문');
    const messages = threads.thread(chatKey(left)).messages;
    expect(messages.map((m) => [m.role, m.content, m.state])).toEqual([
      ['user', '첫 질문', undefined],
      ['assistant', 'vicuna:첫 질문', 'done'],
      ['user', '둘째 질문', undefined],
      ['assistant', 'vicuna:둘째 질문', 'done'],
    ]);
    expect(worker.loads).toEqual(['vicuna']);
    expect(worker.generated[1].messages.map((m) => m.content)).toEqual(['첫 질문', 'vicuna:첫 질문', '둘째 질문']);
    const reopened = new Threads(storage);
    await reopened.open(chatKey(left));
    expect(reopened.thread(chatKey(left))).toEqual(threads.thread(chatKey(left)));
  });

  it('New chat keeps the old conversation in the list; opening it again shows it; both reset the KV cache', async () => {
    const { worker, chats, threads, left } = setup(2);
    const key = chatKey(left);
    await chats.send(left, '신라');
    const first = threads.activeId(key)!;
    await chats.newChat(left);
    expect(threads.thread(key).messages).toEqual([]);
    await chats.send(left, '하와이');
    expect(threads.list(key).map((meta) => meta.title)).toEqual(['하와이', '신라']);
    await chats.openConversation(left, first);
    expect(threads.thread(key).messages.map((m) => m.content)).toEqual(['신라', 'vicuna:신라']);
    expect(worker.resets).toEqual(['vicuna', 'vicuna']);
    // The model answers from this conversation's history only, and the answer records its settings.
    await chats.send(left, '더');
    expect(worker.generated.at(-1)!.messages.map((m) => m.content)).toEqual(['신라', 'vicuna:신라', '더']);
    expect(threads.thread(key).messages.at(-1)!.settings).toMatchObject({ temperature: 0.7, dtype: 'q4', contextLength: 2048 });
  });

  it('leaves failed answers and the questions they failed on out of what the model sees', () => {
    const history = modelHistory([
      { id: '1', role: 'user', content: 'a' },
      { id: '2', role: 'assistant', content: '', state: 'error', error: { code: 'internal', message: 'x' } },
      { id: '3', role: 'user', content: 'b' },
      { id: '4', role: 'assistant', content: 'partial', state: 'stopped' },
    ]);
    expect(history).toEqual([
      { role: 'user', content: 'b' },
      { role: 'assistant', content: 'partial' },
    ]);
  });

  it('Stop during the load cancels it and marks the answer stopped', async () => {
    const { worker, chats, slots, threads, left } = setup(2, 50);
    const sending = chats.send(left, '질문');
    await new Promise((resolve) => setTimeout(resolve, 5));
    chats.stop(chatKey(left));
    await sending;
    expect(threads.thread(chatKey(left)).messages[1].state).toBe('stopped');
    expect(slots.get('vicuna')?.status).toBe('empty');
    expect(worker.generated).toEqual([]);
  });

  it('after a lost device the slot is marked and the next message reloads the model', async () => {
    const { worker, chats, slots, threads, left } = setup(2);
    await chats.send(left, '하나');
    worker.loseDevice();
    expect(slots.get('vicuna')).toMatchObject({ status: 'empty', unloadedBecause: 'device-lost' });
    expect(slots.deviceLost.get()).toBe('lost');
    await chats.send(left, '둘');
    expect(worker.loads).toEqual(['vicuna', 'vicuna']);
    expect(threads.thread(chatKey(left)).messages.map((m) => m.state ?? 'user')).toEqual(['user', 'done', 'user', 'done']);
  });
});

describe('compare controller', () => {
  it('runs the models one after the other when the GPU holds one, says so, and starts with the resident one next', async () => {
    const { worker, compare, threads, compareTab } = setup(1);
    await compare.send(compareTab, '질문');
    let turns = threads.thread(compareKey(compareTab)).turns;
    expect(turns[0].answers.map((a) => [a.content, a.state])).toEqual([
      ['vicuna:질문', 'done'],
      ['llama:질문', 'done'],
    ]);
    expect(turns[0].sequential).toBe(true);
    expect(worker.loads).toEqual(['vicuna', 'llama']);

    await compare.send(compareTab, '다음');
    turns = threads.thread(compareKey(compareTab)).turns;
    expect(worker.loads).toEqual(['vicuna', 'llama', 'vicuna']); // llama (resident) answered first
    expect(worker.generated.map((g) => g.slot)).toEqual(['vicuna', 'llama', 'llama', 'vicuna']);
    // Each side sees its own earlier answer.
    expect(worker.generated[3].messages.map((m) => m.content)).toEqual(['질문', 'vicuna:질문', '다음']);
  });

  it('keeps both models and answers with both at once when they fit', async () => {
    const { worker, compare, threads, compareTab } = setup(2);
    await compare.send(compareTab, '질문');
    await compare.send(compareTab, '다음');
    const turns = threads.thread(compareKey(compareTab)).turns;
    expect(turns.every((turn) => !turn.sequential)).toBe(true);
    expect(worker.loads).toEqual(['vicuna', 'llama']);
    expect(turns[1].answers.map((a) => a.content)).toEqual(['vicuna:다음', 'llama:다음']);
  });
});

describe('settings', () => {
  it('never sends the saved token to a hub that only the page URL chose', () => {
    const saved = { ...DEFAULT_SETTINGS, token: 'hf_secret' };
    expect(new SettingsStore(saved).token()).toBe('hf_secret');
    expect(new SettingsStore(saved, 'http://127.0.0.1:9').token()).toBe('');
    expect(new SettingsStore({ ...saved, hubEndpoint: 'http://127.0.0.1:9' }, 'http://127.0.0.1:9').token()).toBe('hf_secret');
  });

  it('reads hub and models from the URL and ignores what is not a repo or an http(s) endpoint', () => {
    expect(readUrlOptions('?hub=http://127.0.0.1:8080/&model=a/b&model=bad&model=c/d.e')).toEqual({ hub: 'http://127.0.0.1:8080', models: ['a/b', 'c/d.e'] });
    expect(readUrlOptions('?hub=javascript:alert(1)')).toEqual({ hub: undefined, models: [] });
    const tabs = buildTabs(['x/one'], '');
    expect(tabs.map((tab) => tab.kind === 'model' && tab.repo)).toEqual(['x/one', 'huggyllama/llama-7b', false, '']);
  });
});

describe("a model's generation_config.json sampling", () => {
  it("becomes its chat tab's defaults once it loads, until the user changes a value; Compare keeps its own", async () => {
    const { worker, chats, settings, left, compare, compareTab } = setup(2);
    worker.generationDefaults['test/a'] = { temperature: 0.6, topK: 50, topP: 0.9, repetitionPenalty: 1 };
    expect(settings.tab(left.id, left.repo).temperature).toBe(0.7); // the app's, until the model says

    await chats.send(left, '안녕');
    expect(worker.settings.at(-1)).toMatchObject({ temperature: 0.6, topK: 50, topP: 0.9, repetitionPenalty: 1 });
    expect(settings.fromRepo(left.id, left.repo)).toEqual(['temperature', 'topK', 'topP', 'repetitionPenalty']);

    settings.updateTab(left.id, { temperature: 0.2 });
    await chats.send(left, '다시');
    expect(worker.settings.at(-1)).toMatchObject({ temperature: 0.2, topK: 50, topP: 0.9, repetitionPenalty: 1 });
    expect(settings.fromRepo(left.id, left.repo)).toEqual(['topK', 'topP', 'repetitionPenalty']);

    settings.resetTab(left.id);
    expect(settings.tab(left.id, left.repo).temperature).toBe(0.6);

    await compare.send(compareTab, '비교');
    expect(worker.settings.at(-1)).toMatchObject({ temperature: 0.7, topK: 40 }); // Compare's own (app) defaults
  });
});
