/**
 * One answer of a bench run as it leaves the program (the CLI's `eval`, the app's export): one
 * JSON line per question and model, ready for an outside judge.
 */

export interface ResultRecord {
  question: string;
  /** The hub repo (or, in the CLI, the --model as given). */
  model: string;
  /** The revision the model was loaded at (app exports). */
  revision?: string;
  /** The hub commit that revision pointed at, when the hub said (app exports). */
  commit?: string;
  answer: string;
  /** New tokens generated (the stop token included). */
  tokens: number;
  /** The sampling seed, the same for every model. */
  seed: number;
  /** What else shaped the answer: sampling, prompt template and system prompt, storage, context. */
  settings: Record<string, string | number | boolean | undefined>;
  /** Decode speed of this answer. */
  tokensPerSecond: number;
}

/** One JSON object per line, each line ending in a newline. */
export function toJsonl(records: readonly unknown[]): string {
  return records.map((record) => `${JSON.stringify(record)}\n`).join('');
}
