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
 * transformers' semantics: without `do_sample: true` generation is greedy whatever temperature
 * says; with it, an unset temperature is 1, an unset top_k 50 and an unset top_p 1 (GenerationConfig's
 * defaults). repetition_penalty applies either way. Values out of range are ignored.
 */
export function generationDefaults(json: Json): GenerationDefaults {
  const defaults: GenerationDefaults = {};
  const temperature = number(json.temperature, (n) => n >= 0 && n <= 10);
  const topK = number(json.top_k, (n) => Number.isInteger(n) && n >= 0);
  const topP = number(json.top_p, (n) => n > 0 && n <= 1);
  const repetitionPenalty = number(json.repetition_penalty, (n) => n > 0 && n <= 10);
  if (json.do_sample === true) {
    defaults.temperature = temperature ?? 1;
    defaults.topK = topK ?? 50;
    defaults.topP = topP ?? 1;
  } else if (Object.keys(json).some((key) => ['do_sample', 'temperature', 'top_k', 'top_p'].includes(key))) {
    defaults.temperature = 0;
    if (topK !== undefined) defaults.topK = topK;
    if (topP !== undefined) defaults.topP = topP;
  }
  if (repetitionPenalty !== undefined) defaults.repetitionPenalty = repetitionPenalty;
  return defaults;
}
