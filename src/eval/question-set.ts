/**
 * Question sets for the bench: the file a user imports (or `eval --questions` reads), either
 * JSONL with a "question" field per line (extra fields are ignored) or plain text with one
 * question per line. A bad file is refused whole with the line that is wrong: nothing is run on
 * half a set.
 */
import { EngineError } from '../errors';

export interface QuestionSet {
  name: string;
  questions: string[];
}

/** More than a person judges in a sitting; a file past this is probably not a question list. */
export const MAX_QUESTIONS = 1000;
export const MAX_QUESTION_CHARS = 8000;

export function parseQuestionSet(text: string, name: string): QuestionSet {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const firstLine = lines.find((line) => line.trim() !== '')?.trim() ?? '';
  const jsonl = /\.jsonl?$/i.test(name) || firstLine.startsWith('{') || firstLine.startsWith('[');
  const questions: string[] = [];
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const where = `${name} line ${index + 1}`;
    const question = jsonl ? jsonQuestion(line, where) : line.trim();
    if (question.length > MAX_QUESTION_CHARS) throw new EngineError('bad-input', `${where}: the question is ${question.length} characters; at most ${MAX_QUESTION_CHARS}`);
    questions.push(question);
  });
  if (questions.length === 0) throw new EngineError('bad-input', `${name} holds no questions (JSONL with a "question" field per line, or one question per line)`);
  if (questions.length > MAX_QUESTIONS) throw new EngineError('bad-input', `${name} holds ${questions.length} questions; at most ${MAX_QUESTIONS}`);
  return { name, questions };
}

function jsonQuestion(line: string, where: string): string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new EngineError('bad-input', `${where} is not JSON (${(error as Error).message}): each line must be an object like {"question": "..."}`);
  }
  const question = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>).question : undefined;
  if (typeof question !== 'string' || question.trim() === '') throw new EngineError('bad-input', `${where} has no "question" text: each line must be an object like {"question": "..."}`);
  return question.trim();
}
