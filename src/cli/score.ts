/**
 * `score --model M (--text T | --tokens 1,2,3) [--dtype f32|f16|q4] [--json]`: how likely the
 * model finds each token after the ones before it, in one GPU pass (LlamaModel.score). --json
 * prints one line:
 *   {"ids": [...], "logprobs": [...], "perplexity": x}
 * ids as `tokenize` gives them (BOS first) or as given; logprobs[i] = ln p(ids[i + 1] | ids[0..i]),
 * one entry fewer than ids; perplexity = exp(-mean logprobs). Without --json, a table per token.
 * The dtype defaults to f32, as `logits`: the reference precision (q4 scores what the app runs).
 */
import { EngineError } from '../errors';
import { perplexity } from '../eval/stats';
import { MODEL_FLAGS, dtypeFlag, parseFlags, textOrTokensFlag } from './args';
import { loadModel } from './load-model';

export async function score(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, { ...MODEL_FLAGS, text: 'string', tokens: 'string', dtype: 'string', json: 'boolean' });
  const dtype = dtypeFlag(flags, 'f32');
  const input = textOrTokensFlag(flags);
  if (input.bound < 2) throw new EngineError('bad-input', 'Scoring needs at least two tokens: the first is only context');
  // A CLI run holds one model: all rows of a 256-token chunk at once (32 MiB of logits at 7B).
  const maxChunk = Math.min(input.bound, 256);
  const { engine, close } = await loadModel(flags, { dtype, maxChunk, logitsRows: maxChunk, contextLength: input.bound });
  try {
    const { tokenizer } = engine.repo;
    const ids = input.ids(tokenizer);
    const logprobs = Array.from((await engine.session.score(ids)).logprobs);
    const value = perplexity(logprobs);
    if (flags.json === true) {
      process.stdout.write(`${JSON.stringify({ ids, logprobs, perplexity: value })}\n`);
      return;
    }
    const piece = (id: number) => (id < tokenizer.vocabSize ? JSON.stringify(tokenizer.idToPiece(id)) : '?');
    process.stdout.write(`position\tid\tpiece\tlogprob\n0\t${ids[0]}\t${piece(ids[0])}\t\n`);
    logprobs.forEach((logprob, i) => process.stdout.write(`${i + 1}\t${ids[i + 1]}\t${piece(ids[i + 1])}\t${logprob.toFixed(4)}\n`));
    process.stdout.write(`perplexity ${value.toFixed(3)} over ${logprobs.length} tokens\n`);
  } finally {
    engine.dispose();
    await close();
  }
}
