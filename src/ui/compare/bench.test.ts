/**
 * The bench's controllers over the scripted worker: question-set runs (order, one reload when the
 * GPU holds one model, Stop, resume after a reload, export), blind votes on Compare turns and on
 * results, and scoring (the model is loaded first).
 */
import { describe, expect, it } from 'vitest';
import { blindOrder } from '../../eval/votes';
import { EngineClient } from '../../worker/client';
import { ChatController } from '../chat/chat-controller';
import { ModelSlots } from '../models/model-slots';
import { PAPER_SET, QuestionSetController, resultKey } from './question-sets';
import { ScoreController } from './score-controller';
import { DEFAULT_SETTINGS, SettingsStore } from '../settings/settings';
import { buildTabs, type CompareTab } from '../common/tabs';
import { FakeWorker, memoryStorage } from '../testing/fake-worker';
import { Threads, type CompareTurn, type KeyValueStore } from '../conversations/threads';
import { VoteStore } from './votes';

function setup(capacity: number, loadTicks = 1, storage: KeyValueStore = memoryStorage().storage) {
  const worker = new FakeWorker(capacity, loadTicks);
  const client = new EngineClient(worker);
  const slots = new ModelSlots(client);
  const settings = new SettingsStore(DEFAULT_SETTINGS);
  settings.updateTab('compare', { seed: 42, temperature: 0.5 });
  const chats = new ChatController(client, slots, settings, new Threads(storage));
  const votes = new VoteStore(settings, storage);
  const sets = new QuestionSetController(slots, chats, settings, votes, storage);
  const tab = buildTabs(['test/a', 'test/b'], '')[2] as CompareTab;
  return { worker, slots, chats, votes, sets, tab, storage, scores: new ScoreController(client, slots, chats) };
}

const file = (text: string, name: string) => new File([text], name);

describe('question sets', () => {
  it('answers every question with one model, then the other (one reload when the GPU holds one), and exports JSONL', async () => {
    const { worker, sets, tab } = setup(1);
    await sets.run(tab);
    const { run } = sets.state.get();
    expect(run?.status).toBe('done');
    expect(worker.loads).toEqual(['vicuna', 'llama']);
    expect(worker.generated.map((g) => `${g.slot}:${g.messages.map((m) => m.content).join('|')}`)).toEqual([
      ...PAPER_SET.questions.map((q) => `vicuna:${q}`),
      ...PAPER_SET.questions.map((q) => `llama:${q}`),
    ]);
    const lines = sets.exportJsonl().trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(lines).toHaveLength(6);
    expect(lines[1]).toEqual({
      question: PAPER_SET.questions[0],
      model: 'test/b',
      revision: 'main',
      answer: `llama:${PAPER_SET.questions[0]}`,
      tokens: 3,
      seed: 42,
      settings: expect.objectContaining({ temperature: 0.5, template: 'auto' }),
      tokensPerSecond: 1,
    });
  });

  it('a reload mid-run keeps the answers so far and resumes with the missing ones only', async () => {
    const { storage } = memoryStorage();
    const first = setup(2, 1, storage);
    const running = first.sets.run(first.tab);
    // The page "reloads" once two answers are saved: a second controller reads the same storage.
    while ((first.sets.state.get().run?.answers.flat().filter(Boolean).length ?? 0) < 2) await new Promise((resolve) => setTimeout(resolve, 1));
    const second = setup(2, 1, storage);
    await second.sets.open();
    first.sets.stop();
    await running;
    const reopened = second.sets.state.get().run!;
    expect(reopened.status).toBe('stopped');
    expect(reopened.answers.flat().filter(Boolean)).toHaveLength(2);
    await second.sets.run(second.tab);
    expect(second.sets.state.get().run?.status).toBe('done');
    expect(second.sets.state.get().run?.id).toBe(reopened.id);
    expect(second.worker.generated).toHaveLength(4); // 6 answers, 2 of them from before the reload
  });

  it('Stop ends the answer being written and keeps the finished ones; a bad file changes nothing', async () => {
    const { sets, tab } = setup(2);
    await sets.importFile(file('{"question": "하나"}\n{"question": "둘"}\n', 'two.jsonl'));
    const running = sets.run(tab);
    while (!sets.state.get().current?.text) await new Promise((resolve) => setTimeout(resolve, 1));
    sets.stop();
    await running;
    const { run, running: still } = sets.state.get();
    expect(still).toBe(false);
    expect(run?.status).toBe('stopped');
    expect(run?.answers.flat().filter(Boolean)).toHaveLength(0);

    await sets.importFile(file('{"question": "셋"}\nnot json\n', 'bad.jsonl'));
    expect(sets.state.get().importError).toMatch(/bad.jsonl line 2 is not JSON/);
    expect(sets.state.get().set.questions).toEqual(['하나', '둘']);
    await sets.importFile(file('질문 하나\n질문 둘\n질문 셋\n', 'plain.txt'));
    expect(sets.state.get()).toMatchObject({ set: { name: 'plain.txt', questions: ['질문 하나', '질문 둘', '질문 셋'] }, importError: undefined });
  });
});

describe('blind votes', () => {
  const turn: CompareTurn = {
    id: 'turn-7',
    prompt: '질문',
    answers: [
      { id: 'a0', role: 'assistant', content: '왼쪽 답', state: 'done', repo: 'test/a' },
      { id: 'a1', role: 'assistant', content: '오른쪽 답', state: 'done', repo: 'test/b' },
    ],
  };

  it('stores a Compare vote with the answers as shown, the settings and seeds; once per question; kept over a reload', async () => {
    const { votes, tab, storage } = setup(2);
    votes.setBlind(true);
    await votes.voteTurn(tab, turn, 'a');
    await votes.voteTurn(tab, turn, 'b'); // the names are out: a second vote is ignored
    const order = blindOrder(turn.id);
    const [vote] = votes.votes.get();
    expect(votes.votes.get()).toHaveLength(1);
    expect(vote).toMatchObject({
      key: 'turn-7',
      prompt: '질문',
      verdict: 'a',
      models: order.map((side) => ({ repo: turn.answers[side].repo, revision: 'main' })),
      answers: order.map((side) => turn.answers[side].content),
      seed: 42,
      sidesSeed: 'turn-7',
      settings: expect.objectContaining({ temperature: 0.5 }),
    });
    const line = JSON.parse(votes.exportJsonl());
    expect(line.winner).toBe(turn.answers[order[0]].repo);

    const reloaded = setup(2, 1, storage);
    await reloaded.votes.open();
    expect(reloaded.votes.blind.get()).toBe(true);
    expect(reloaded.votes.votes.get()).toEqual(votes.votes.get());
    await reloaded.votes.clear();
    expect(reloaded.votes.votes.get()).toEqual([]);
    expect(reloaded.votes.exportJsonl()).toBe('');
  });

  it('votes on a question-set result in its blind order', async () => {
    const { sets, votes, tab } = setup(2);
    await sets.importFile(file('하나\n', 'one.txt'));
    await sets.run(tab);
    const run = sets.state.get().run!;
    await sets.vote(0, 'b');
    const order = blindOrder(resultKey(run, 0));
    expect(votes.votes.get()[0]).toMatchObject({ key: resultKey(run, 0), source: 'set', verdict: 'b', answers: order.map((side) => run.answers[0][side]!.answer) });
  });
});

describe('scoring', () => {
  it('loads the model into its slot first and is busy while it scores', async () => {
    const { worker, scores, slots, tab } = setup(1);
    const scoring = scores.score(tab.models[1], { kind: 'text', text: '안녕' });
    while (worker.scored.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    expect(slots.get('llama')?.generating).toBe(true);
    expect((await scoring).perplexity).toBeCloseTo(Math.E, 12);
    expect(slots.get('llama')?.generating).toBe(false);
    expect(worker.loads).toEqual(['llama']);
    expect(worker.scored).toEqual([{ slot: 'llama', input: { kind: 'text', text: '안녕' } }]);
  });
});
