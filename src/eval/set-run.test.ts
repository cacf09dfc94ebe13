import { describe, expect, it } from 'vitest';
import { canResume, newRun, nextItem, runProgress, runRecords, sameQuestions, withAnswer, type RunModel } from './set-run';

const models: [RunModel, RunModel] = [
  { slot: 'vicuna', repo: 'x/vicuna', revision: 'main', title: 'Vicuna' },
  { slot: 'llama', repo: 'y/llama', revision: 'main', title: 'LLaMA' },
];
const settings = { temperature: 0.7, topK: 40, topP: 0.9, repetitionPenalty: 1.1, seed: 3, maxNewTokens: 64, template: 'auto' as const, systemPrompt: '시스템' };
const answer = (text: string) => ({ answer: text, tokens: 5, tokensPerSecond: 12.5, finishReason: 'eos' });

describe('question set runs', () => {
  it('answers every question with one model, then with the other, starting with the one loaded', () => {
    let run = newRun('r1', { name: 'paper', questions: ['q1', 'q2'] }, models, settings);
    const order: string[] = [];
    for (let item = nextItem(run, 1); item; item = nextItem(run, 1)) {
      order.push(`${item.side}:${item.question}`);
      run = withAnswer(run, item.question, item.side, answer(`${item.side}/${item.question}`));
    }
    expect(order).toEqual(['1:0', '1:1', '0:0', '0:1']);
    expect(runProgress(run)).toEqual({ done: 4, total: 4 });
  });

  it('resumes at the first missing answer and exports what is answered, question by question', () => {
    let run = newRun('r2', { name: 'set.jsonl', questions: ['q1', 'q2'] }, models, settings);
    run = withAnswer(run, 0, 0, answer('a'));
    run = withAnswer(run, 0, 1, { ...answer('b'), commit: 'c0ffee' });
    expect(nextItem(run)).toEqual({ question: 1, side: 0 });
    expect(runProgress(run)).toEqual({ done: 2, total: 4 });
    expect(runRecords(run)).toEqual([
      { question: 'q1', model: 'x/vicuna', revision: 'main', answer: 'a', tokens: 5, seed: 3, settings: { temperature: 0.7, topK: 40, topP: 0.9, repetitionPenalty: 1.1, maxNewTokens: 64, template: 'auto', systemPrompt: '시스템' }, tokensPerSecond: 12.5 },
      expect.objectContaining({ question: 'q1', model: 'y/llama', revision: 'main', commit: 'c0ffee', answer: 'b' }),
    ]);
    expect(sameQuestions(run.set, { name: 'other name', questions: ['q1', 'q2'] })).toBe(true);
    expect(sameQuestions(run.set, { name: 'set.jsonl', questions: ['q1'] })).toBe(false);
    // It goes on only for the same questions through the same models, in order, until done.
    expect(canResume(run, { name: 'other name', questions: ['q1', 'q2'] }, ['x/vicuna', 'y/llama'])).toBe(true);
    expect(canResume(run, run.set, ['y/llama', 'x/vicuna'])).toBe(false);
    expect(canResume(run, { name: 'set.jsonl', questions: ['q1'] }, ['x/vicuna', 'y/llama'])).toBe(false);
    expect(canResume({ ...run, status: 'done' }, run.set, ['x/vicuna', 'y/llama'])).toBe(false);
    expect(canResume(undefined, run.set, ['x/vicuna', 'y/llama'])).toBe(false);
  });
});
