/**
 * What a repo's config.json and generation_config.json say about generation: the ids that end
 * it (Llama-3 ends a turn with <|eot_id|>, which often only generation_config.json lists) and the
 * sampling the authors ship (a tab's defaults until the user changes them).
 */
import type { SamplingParams } from '../model/llama';

type Json = Record<string, unknown>;

/** Sampling values generation_config.json sets, as transformers' generate() reads them. */
export type GenerationDefaults = Partial<Omit<SamplingParams, 'seed'>>;

/** `eos_token_id` as an id or a list of ids; ids outside [0, vocabSize) are left out. */
export function eosIds(json: Json, vocabSize: number): number[] {
  const value = json.eos_token_id;
  return (Array.isArray(value) ? value : [value]).filter((id): id is number => Number.isInteger(id) && id >= 0 && id < vocabSize);
}

const number = (value: unknown, check: (n: number) => boolean): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) && check(value) ? value : undefined;

/**
 * transformers' semantics, for a file that sets any sampling value: without `do_sample: true`
 * generation is greedy whatever temperature says; what the file leaves out takes
 * GenerationConfig's defaults (temperature 1, top_k 50, top_p 1, repetition_penalty 1). A file
 * that sets none (only token ids) gives no defaults. Values out of range count as left out.
 */
export function generationDefaults(json: Json): GenerationDefaults {
  if (!['do_sample', 'temperature', 'top_k', 'top_p', 'repetition_penalty'].some((key) => key in json)) return {};
  return {
    temperature: json.do_sample === true ? (number(json.temperature, (n) => n >= 0 && n <= 10) ?? 1) : 0,
    topK: number(json.top_k, (n) => Number.isInteger(n) && n >= 0) ?? 50,
    topP: number(json.top_p, (n) => n > 0 && n <= 1) ?? 1,
    repetitionPenalty: number(json.repetition_penalty, (n) => n > 0 && n <= 10) ?? 1,
  };
}
