/**
 * `eval --model A --model B ... --questions FILE --out results.jsonl [generate's flags]`: every
 * question through every model with the same settings and seed, one model on the GPU at a time
 * (all questions through A, then through B). Writes one JSON line per question and model:
 *   {"question", "model", "answer", "tokens", "seed", "settings", "tokensPerSecond"}
 * Each question starts from an empty conversation, so an answer is what `generate` gives for it.
 * The file is written whole at the end, never half; progress goes to stderr.
 */
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EngineError } from '../errors';
import { parseQuestionSet } from '../eval/question-set';
import { toJsonl, type ResultRecord } from '../eval/results';
import { GENERATION_FLAGS, MODEL_FLAGS, generationFlags, parseFlags, readFlagFile, requireString } from './args';
import { loadModel } from './load-model';

export async function evaluate(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, { ...MODEL_FLAGS, model: 'strings', ...GENERATION_FLAGS, questions: 'string', out: 'string' });
  const models = (flags.model as string[] | undefined) ?? [];
  if (models.length === 0 || models.some((model) => model === '')) throw new EngineError('bad-input', '--model is required, once per model (--model A --model B)');
  const out = requireString(flags, 'out');
  const file = requireString(flags, 'questions');
  const text = await readFlagFile('questions', file);
  const { questions } = parseQuestionSet(text, path.basename(file));
  const { settings, dtype, contextLength } = generationFlags(flags);
  const { seed, ...shaping } = settings;

  const records: ResultRecord[] = [];
  for (const [m, model] of models.entries()) {
    const { engine, close } = await loadModel({ ...flags, model }, { dtype, contextLength });
    try {
      for (const [q, question] of questions.entries()) {
        engine.session.reset();
        const result = await engine.chat([{ role: 'user', content: question }], settings);
        const tokensPerSecond = result.decodedTokens / Math.max(result.decodeMs / 1000, 1e-9);
        // The format this model was asked in: "auto" resolves per model (its own template, else vicuna).
        const template = engine.promptFormat(settings).kind;
        records.push({ question, model, answer: result.text, tokens: result.ids.length, seed, settings: { ...shaping, template, dtype, contextLength }, tokensPerSecond });
        if (result.notice && q === 0) process.stderr.write(`warning: ${model}: ${result.notice}\n`);
        process.stderr.write(`[${m + 1}/${models.length}] ${model}: question ${q + 1}/${questions.length}, ${result.ids.length} tokens, ${tokensPerSecond.toFixed(1)} tok/s (${result.finishReason})\n`);
      }
    } finally {
      engine.dispose();
      await close();
    }
  }
  // Written beside the target and renamed over it: a failed run leaves no partial results file.
  const partial = `${out}.partial`;
  await writeFile(partial, toJsonl(records));
  await rename(partial, out);
  process.stderr.write(`wrote ${records.length} answers (${questions.length} questions x ${models.length} models) to ${out}\n`);
}
