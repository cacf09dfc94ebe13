// The part of Vitest's API the GPU test files use (describe, it, their .each, expect), so that
// scripts/gpu-check/main.mjs can bundle those files unchanged and run them on a lent GPU
// machine, which has Node but no node_modules and no Vitest. `expect` is Vitest's own
// (@vitest/expect on chai), so every matcher means what it means under `vitest run`.
import * as chai from 'chai';
import { GLOBAL_EXPECT, JestAsymmetricMatchers, JestChaiExpect, JestExtend, setState } from '@vitest/expect';
import { format } from 'node:util';

chai.use(JestExtend);
chai.use(JestChaiExpect);
chai.use(JestAsymmetricMatchers);

export const expect = (value, message) => {
  setState({ assertionCalls: 0, isExpectingAssertions: false, expectedAssertionsNumber: null }, expect);
  return chai.expect(value, message);
};
Object.assign(expect, chai.expect);
globalThis[GLOBAL_EXPECT] = expect;

/** Registered tests, in file order: { file, path: [describe names..., test name], fn }. */
const tests = [];
const scope = [];
let currentFile = '';

export function setFile(file) {
  currentFile = file;
}

// Vitest's title formatting: printf-style %s %d %i %f %j %o %# %% in order, else the args as is.
function title(name, args, index) {
  let next = 0;
  const text = name.replace(/%[sdifjo#%]/g, (spec) => {
    if (spec === '%%') return '%';
    if (spec === '%#') return String(index);
    const value = args[next++];
    if (spec === '%j') return JSON.stringify(value);
    if (spec === '%d' || spec === '%i') return String(spec === '%i' ? Math.trunc(Number(value)) : Number(value));
    return typeof value === 'string' ? value : format('%o', value);
  });
  return text;
}

const rows = (table) => table.map((row) => (Array.isArray(row) ? row : [row]));

export function describe(name, body) {
  scope.push(name);
  try {
    body();
  } finally {
    scope.pop();
  }
}
describe.each = (table) => (name, body) => rows(table).forEach((args, i) => describe(title(name, args, i), () => body(...args)));

export function it(name, fn) {
  tests.push({ file: currentFile, path: [...scope, name], fn });
}
it.each = (table) => (name, fn) => rows(table).forEach((args, i) => it(title(name, args, i), () => fn(...args)));
export const test = it;

/** Runs every registered test in order; each result is { file, path, ms, error? }. */
export async function runTests(onResult) {
  const results = [];
  for (const t of tests) {
    const start = performance.now();
    let error;
    try {
      await t.fn();
    } catch (e) {
      error = e instanceof Error ? e : new Error(String(e));
    }
    const result = { file: t.file, path: t.path, ms: performance.now() - start, error };
    results.push(result);
    onResult(result);
  }
  return results;
}
