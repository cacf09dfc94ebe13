/**
 * A question set's run through two models: every question through one model, then through the
 * other (when the GPU holds one model, that is one reload, not one per question), with the same
 * settings and seed. The state is plain data, saved after each answer, so a reload resumes at the
 * first question still missing an answer.
 */
import type { ErrorData } from '../errors';
import type { QuestionSet } from './question-set';
import type { ResultRecord } from './results';

export interface RunModel {
  /** The worker slot (the model tab's id). */
  slot: string;
  repo: string;
  revision: string;
  title: string;
}

export interface SetAnswer {
  answer: string;
  /** The hub commit of the weights that wrote it, when known. */
  commit?: string;
  tokens: number;
  tokensPerSecond: number;
  finishReason: string;
}

/**
 * What every answer of a run is generated with (the app's ChatSettings). eval reads only the
 * seed and records the rest as the results file's `settings`; it stays below chat by not naming
 * chat's type.
 */
export interface RunSettings {
  seed: number;
}

export interface SetRun<Settings extends RunSettings = RunSettings> {
  id: string;
  set: QuestionSet;
  /** Compare's two models, left then right. */
  models: [RunModel, RunModel];
  settings: Settings;
  /** answers[question][side], null until answered. */
  answers: (SetAnswer | null)[][];
  /** 'stopped' also after a reload cut a run short. */
  status: 'running' | 'stopped' | 'done' | 'error';
  error?: ErrorData;
}

export function newRun<Settings extends RunSettings>(id: string, set: QuestionSet, models: [RunModel, RunModel], settings: Settings): SetRun<Settings> {
  return { id, set, models, settings, answers: set.questions.map(() => [null, null]), status: 'running' };
}

/** The next answer to produce: side `firstSide`'s questions first (the model already loaded), then the other's. */
export function nextItem(run: SetRun, firstSide = 0): { question: number; side: number } | undefined {
  for (const side of [firstSide, 1 - firstSide]) {
    const question = run.answers.findIndex((pair) => pair[side] === null);
    if (question >= 0) return { question, side };
  }
  return undefined;
}

export function runProgress(run: SetRun): { done: number; total: number } {
  const done = run.answers.reduce((sum, pair) => sum + pair.filter((answer) => answer !== null).length, 0);
  return { done, total: run.answers.length * 2 };
}

export function withAnswer<Settings extends RunSettings>(run: SetRun<Settings>, question: number, side: number, answer: SetAnswer): SetRun<Settings> {
  const answers = run.answers.map((pair, q) => (q === question ? pair.map((old, s) => (s === side ? answer : old)) : pair));
  return { ...run, answers };
}

export function sameQuestions(a: QuestionSet, b: QuestionSet): boolean {
  return a.questions.length === b.questions.length && a.questions.every((question, i) => question === b.questions[i]);
}

/** Whether `run` goes on (rather than a new run starting) when `set` is run through the models `repos`, in order. */
export function canResume<Settings extends RunSettings>(run: SetRun<Settings> | undefined, set: QuestionSet, repos: string[]): run is SetRun<Settings> {
  return run !== undefined && run.status !== 'done' && sameQuestions(run.set, set) && run.models.every((m, i) => m.repo === repos[i]);
}

/** The export: one record per answered question and model, question by question. */
export function runRecords(run: SetRun): ResultRecord[] {
  const { seed, ...rest } = run.settings;
  const settings = recordedSettings(rest);
  return run.answers.flatMap((pair, q) =>
    pair.flatMap((answer, side) => {
      if (!answer) return [];
      const model = run.models[side];
      const commit = answer.commit ? { commit: answer.commit } : {};
      return [{ question: run.set.questions[q], model: model.repo, revision: model.revision, ...commit, answer: answer.answer, tokens: answer.tokens, seed, settings, tokensPerSecond: answer.tokensPerSecond }];
    }),
  );
}

/** The settings as a results file records them: their plain values (all of ChatSettings'). */
function recordedSettings(settings: object): ResultRecord['settings'] {
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value === undefined || ['string', 'number', 'boolean'].includes(typeof value)));
}
