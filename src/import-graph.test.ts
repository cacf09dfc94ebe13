/**
 * The import graph stays as STYLE.md draws it: no file reaches itself through its imports, and
 * no product file imports from a layer above its own (`ui -> api/worker -> chat -> model -> gpu`,
 * with loader and tokenizer feeding model and chat, eval pure beside them). Type-only imports
 * count: a type that points up still ties the lower layer to the upper one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.dirname(new URL(import.meta.url).pathname);

/**
 * src/'s top-level folders and files, lowest first. A file may import from its own entry and from
 * any entry of a lower rank; entries of one rank do not import each other.
 */
const RANKS: string[][] = [
  ['errors.ts', 'seeded-random.ts'],
  ['eval', 'gpu', 'loader', 'tokenizer'],
  ['model'],
  ['chat'],
  ['worker'],
  ['api'],
  ['ui', 'cli', 'pwa'],
  ['main.tsx'],
];
const RANK = new Map(RANKS.flatMap((entries, rank) => entries.map((entry) => [entry, rank] as const)));

/** Static imports and re-exports (type-only too), side-effect imports, import() and new URL(…, import.meta.url). */
const SPECIFIERS = [/^\s*(?:import|export)\b[^'";]*?['"]([^'"]+)['"]/gm, /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g, /\bnew URL\(\s*['"]([^'"]+)['"]\s*,\s*import\.meta\.url/g];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** File -> the source files it imports (relative specifiers that name a .ts/.tsx file). */
function importGraph(files: string[]): Map<string, string[]> {
  const known = new Set(files);
  const resolve = (from: string, specifier: string): string | undefined => {
    if (!specifier.startsWith('.')) return undefined;
    const base = path.resolve(path.dirname(from), specifier.replace(/\?.*$/, ''));
    const candidates = [base, `${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts'), base.replace(/\.js$/, '.ts')];
    return candidates.find((candidate) => known.has(candidate));
  };
  return new Map(
    files.map((file) => {
      const text = readFileSync(file, 'utf8');
      const targets = SPECIFIERS.flatMap((pattern) => [...text.matchAll(pattern)].map((match) => resolve(file, match[1])));
      return [file, [...new Set(targets.filter((target): target is string => target !== undefined))]];
    }),
  );
}

/** Tarjan's strongly connected components: every group of two or more files that import each other round. */
function circles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (file: string) => {
    index.set(file, next);
    low.set(file, next);
    next++;
    stack.push(file);
    onStack.add(file);
    for (const target of graph.get(file) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(file, Math.min(low.get(file)!, index.get(target)!));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1 || graph.get(file)!.includes(file)) found.push(component.sort());
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return found;
}

const topEntry = (file: string) => path.relative(SRC, file).split(path.sep)[0];
/** Tests and test helpers build fixtures from any layer; only what ships is held to the layering. */
const isTestCode = (file: string) => /\.test\.tsx?$/.test(file) || /(^|[\\/])testing([\\/]|\.ts$)/.test(path.relative(SRC, file));
const relative = (file: string) => path.relative(SRC, file);

describe('import graph', () => {
  const files = sourceFiles(SRC);
  const graph = importGraph(files);

  it('sees the imports (a parser that finds none would pass everything)', () => {
    const edges = [...graph.values()].reduce((sum, targets) => sum + targets.length, 0);
    expect(files.length).toBeGreaterThan(100);
    expect(edges).toBeGreaterThan(files.length);
    // One import of each kind the parser must see: type-only, multi-line, and a worker URL.
    expect(graph.get(path.join(SRC, 'eval/set-run.ts'))).toContain(path.join(SRC, 'errors.ts'));
    expect(graph.get(path.join(SRC, 'ui/shell/services.ts'))).toContain(path.join(SRC, 'worker/engine.worker.ts'));
  });

  it('has no circle', () => {
    expect(circles(graph).map((component) => component.map(relative))).toEqual([]);
  });

  it('finds a circle when there is one', () => {
    const [a, b, c] = ['a.ts', 'b.ts', 'c.ts'];
    expect(circles(new Map([[a, [b]], [b, [c]], [c, [a]]]))).toEqual([[a, b, c]]);
    expect(circles(new Map([[a, [b]], [b, [c]], [c, []]]))).toEqual([]);
  });

  it('knows every top-level entry of src/ (add a new one to RANKS where it sits)', () => {
    const entries = new Set(files.filter((file) => !isTestCode(file)).map(topEntry));
    expect([...entries].filter((entry) => !RANK.has(entry))).toEqual([]);
  });

  it('has no import that runs back up a layer', () => {
    const upward: string[] = [];
    for (const [file, targets] of graph) {
      if (isTestCode(file)) continue;
      const from = topEntry(file);
      for (const target of targets) {
        const to = topEntry(target);
        if (to !== from && !(RANK.get(to)! < RANK.get(from)!)) upward.push(`${relative(file)} -> ${relative(target)}`);
      }
    }
    expect(upward).toEqual([]);
  });
});
