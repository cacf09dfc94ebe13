/**
 * Question sets in Compare: the paper's three questions or an imported file, run through both
 * models with the Compare settings and seed (eval/set-run.ts says in which order), with progress,
 * Stop, a saved run that a reload resumes, blind votes on the results and a JSONL export.
 * Outside React; components read `state`.
 */
import * as idb from 'idb-keyval';
import { toErrorData } from '../../errors';
import { parseQuestionSet, type QuestionSet } from '../../eval/question-set';
import { toJsonl } from '../../eval/results';
import type { ChatSettings } from '../../chat/engine';
import { canResume, newRun, nextItem, runRecords, withAnswer, type RunModel, type SetRun } from '../../eval/set-run';
import type { Verdict } from '../../eval/votes';
import type { ChatController } from '../chat/chat-controller';
import type { ModelSlots } from '../models/model-slots';
import { PRESETS } from '../chat/presets';
import { chatSettings, type SettingsStore } from '../settings/settings';
import { Store } from '../common/store';
import type { CompareTab } from '../common/tabs';
import { newId, type KeyValueStore } from '../conversations/threads';
import { DEFAULT_REVISION, type VoteStore } from './votes';

/** A run of the app's: its answers are generated with chat's settings. */
export type ChatSetRun = SetRun<ChatSettings>;

export const PAPER_SET: QuestionSet = { name: '논문의 세 질문 (the paper’s questions)', questions: PRESETS.map((preset) => preset.prompt) };

export interface SetState {
  /** The set the next run asks. */
  set: QuestionSet;
  /** The last run (its own copy of its set), done or not. */
  run?: ChatSetRun;
  running: boolean;
  /** The answer being written now. */
  current?: { question: number; side: number; text: string };
  /** Why the last file could not be imported (the set did not change). */
  importError?: string;
}

const KEY = 'bench:question-set:v1';

/** The run in progress: what Stop must end (a load in `slot`, a `generation`). */
interface ActiveRun {
  stopped: boolean;
  generation?: AbortController;
  slot?: string;
}

export class QuestionSetController {
  readonly state = new Store<SetState>({ set: PAPER_SET, running: false });
  private active?: ActiveRun;

  constructor(
    private readonly slots: ModelSlots,
    private readonly chats: ChatController,
    private readonly settings: SettingsStore,
    private readonly votes: VoteStore,
    private readonly storage: KeyValueStore = idb,
  ) {}

  /** Reads the saved set and run; a run the page left mid-way is stopped, to resume. */
  async open(): Promise<void> {
    const saved = await this.storage.get<{ set: QuestionSet; run?: ChatSetRun }>(KEY);
    if (!saved?.set) return;
    const run = saved.run?.status === 'running' ? { ...saved.run, status: 'stopped' as const } : saved.run;
    this.patch({ set: saved.set, run });
  }

  /** Reads a JSONL or text file of questions; a bad file changes nothing and says why. */
  async importFile(file: File): Promise<void> {
    try {
      const set = parseQuestionSet(await file.text(), file.name);
      this.patch({ set, importError: undefined });
      await this.save();
    } catch (error) {
      this.patch({ importError: toErrorData(error).message });
    }
  }

  async usePaperSet(): Promise<void> {
    this.patch({ set: PAPER_SET, importError: undefined });
    await this.save();
  }

  /** Runs the set through both models of `tab`; resumes the last run when it asked the same. */
  async run(tab: CompareTab): Promise<void> {
    if (this.active) return;
    const { set, run: last } = this.state.get();
    const models = tab.models.map((m): RunModel => ({ slot: m.id, repo: m.repo, revision: DEFAULT_REVISION, title: m.title })) as [RunModel, RunModel];
    let run: ChatSetRun = canResume(last, set, tab.models.map((m) => m.repo)) ? { ...last, status: 'running', error: undefined } : newRun(newId(), set, models, chatSettings(this.settings.tab('compare')));
    const active: ActiveRun = { stopped: false };
    this.active = active;
    this.patch({ run, running: true });
    try {
      for (;;) {
        // The model already on the GPU goes first: one reload at most when only one fits.
        const resident = run.models.findIndex((m) => this.slots.get(m.slot)?.status === 'ready');
        const item = nextItem(run, Math.max(resident, 0));
        if (!item) {
          run = { ...run, status: 'done' };
          break;
        }
        if (active.stopped) throw new DOMException('Stopped', 'AbortError');
        const model = tab.models[item.side];
        this.patch({ current: { ...item, text: '' } });
        active.slot = model.id;
        const { commit } = await this.slots.ensure(model.id, this.chats.target(model));
        if (active.stopped) throw new DOMException('Stopped', 'AbortError');
        this.slots.setGenerating(model.id, true);
        try {
          const question = run.set.questions[item.question];
          active.generation = new AbortController();
          const result = await this.chats.engine.generate(model.id, { messages: [{ role: 'user', content: question }] }, run.settings, {
            signal: active.generation.signal,
            onText: (text) => {
              const current = this.state.get().current;
              if (current) this.patch({ current: { ...current, text: current.text + text } });
            },
          });
          if (result.finishReason === 'cancelled') throw new DOMException('Stopped', 'AbortError');
          run = withAnswer(run, item.question, item.side, { answer: result.text, commit, tokens: result.stats.newTokens, tokensPerSecond: result.stats.decodeTokensPerSecond, finishReason: result.finishReason });
        } finally {
          this.slots.setGenerating(model.id, false);
          active.generation = undefined;
        }
        this.patch({ run });
        await this.save();
      }
    } catch (error) {
      const data = toErrorData(error);
      run = data.code === 'cancelled' ? { ...run, status: 'stopped' } : { ...run, status: 'error', error: data };
    } finally {
      this.active = undefined;
      this.patch({ run, running: false, current: undefined });
      await this.save();
    }
  }

  /** Stops the run after keeping every finished answer; run() again resumes. */
  stop(): void {
    const active = this.active;
    if (!active) return;
    active.stopped = true;
    if (active.slot) this.slots.cancel(active.slot);
    active.generation?.abort();
  }

  /** Blind vote on result `question` of the run, its answers in the order they were shown. */
  vote(question: number, verdict: Verdict): Promise<void> {
    const run = this.state.get().run;
    const pair = run?.answers[question];
    if (!run || !pair?.[0] || !pair[1]) return Promise.resolve();
    const side = (i: number) => ({ model: { repo: run.models[i].repo, revision: run.models[i].revision }, answer: pair[i]!.answer });
    return this.votes.addBlind(resultKey(run, question), 'set', run.set.questions[question], [side(0), side(1)], verdict, run.settings);
  }

  exportJsonl(): string {
    const run = this.state.get().run;
    return run ? toJsonl(runRecords(run)) : '';
  }

  private patch(change: Partial<SetState>): void {
    this.state.set((state) => ({ ...state, ...change }));
  }

  private save(): Promise<void> {
    const { set, run } = this.state.get();
    return this.storage.set(KEY, { set, run });
  }
}

/** The key a result's blind order and vote hang on. */
export function resultKey(run: SetRun, question: number): string {
  return `${run.id}:${question}`;
}
