/**
 * A question set's run through two models: every question through one model, then through the
 * other (when the GPU holds one model, that is one reload, not one per question), with the same
 * settings and seed. The state is plain data, saved after each answer, so a reload resumes at the
 * first question still missing an answer.
 */
import type { ChatSettings } from '../chat/engine';
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

export interface SetRun {
  id: string;
  set: QuestionSet;
  /** Compare's two models, left then right. */
  models: [RunModel, RunModel];
  settings: ChatSettings;
  /** answers[question][side], null until answered. */
  answers: (SetAnswer | null)[][];
  /** 'stopped' also after a reload cut a run short. */
  status: 'running' | 'stopped' | 'done' | 'error';
  error?: ErrorData;
}

export function newRun(id: string, set: QuestionSet, models: [RunModel, RunModel], settings: ChatSettings): SetRun {
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

export function withAnswer(run: SetRun, question: number, side: number, answer: SetAnswer): SetRun {
  const answers = run.answers.map((pair, q) => (q === question ? pair.map((old, s) => (s === side ? answer : old)) : pair));
  return { ...run, answers };
}

export function sameQuestions(a: QuestionSet, b: QuestionSet): boolean {
  return a.questions.length === b.questions.length && a.questions.every((question, i) => question === b.questions[i]);
}

/** Whether `run` goes on (rather than a new run starting) when `set` is run through the models `repos`, in order. */
export function canResume(run: SetRun | undefined, set: QuestionSet, repos: string[]): run is SetRun {
  return run !== undefined && run.status !== 'done' && sameQuestions(run.set, set) && run.models.every((m, i) => m.repo === repos[i]);
}

/** The export: one record per answered question and model, question by question. */
export function runRecords(run: SetRun): ResultRecord[] {
  const { seed, ...settings } = run.settings;
  return run.answers.flatMap((pair, q) =>
    pair.flatMap((answer, side) => {
      if (!answer) return [];
      const model = run.models[side];
      const commit = answer.commit ? { commit: answer.commit } : {};
      return [{ question: run.set.questions[q], model: model.repo, revision: model.revision, ...commit, answer: answer.answer, tokens: answer.tokens, seed, settings, tokensPerSecond: answer.tokensPerSecond }];
    }),
  );
}
