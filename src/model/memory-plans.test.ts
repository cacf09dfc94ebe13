/**
 * BENCHMARKS.md's section "Memory plans for 7B-class models" is what the memory planner computes
 * from those repos' config.json (testing/hub-configs.ts): this test renders it and holds the file
 * to it, so the figures cannot drift from the code. After a deliberate change, rewrite the
 * section with UPDATE_MEMORY_PLANS=1 npx vitest run src/model/memory-plans.test.ts.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from './config';
import { planMemory } from './memory-plan';
import { LLAMA_1_7B, LLAMA_31_8B, QWEN25_7B } from './testing/hub-configs';
import { matrixBytes } from './upload';
import { weightLayout, type ModelDtype } from './weights';

const FILE = path.resolve(__dirname, '../../BENCHMARKS.md');
const HEADING = '## Memory plans for 7B-class models (planned, not measured)';
const MODELS: [string, unknown][] = [
  ['Llama-3.1-8B', LLAMA_31_8B],
  ['Qwen2.5-7B', QWEN25_7B],
  ['LLaMA-7B (Korean-Vicuna), for comparison', LLAMA_1_7B],
];
const CONTEXTS = [2048, 8192];
/** What the app's chat engine loads with: prefill chunks of 256, 64 rows of logits for scoring. */
const SHAPE = { maxChunk: 256, logitsRows: 64, kvFormat: 'f16' as const };
/** WebGPU's default (and smallest allowed) maxStorageBufferBindingSize. */
const SMALLEST_LIMIT = 128 * 2 ** 20;

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;
const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;

function renderSection(): string {
  const rows: string[] = [];
  for (const [name, json] of MODELS) {
    const config = parseConfig(JSON.stringify(json));
    for (const dtype of ['q4', 'f16'] as ModelDtype[]) {
      const layout = weightLayout(config, dtype, !config.tieWordEmbeddings);
      const tables = layout.matrices.filter((m) => m.key === 'embed' || m.key === 'lm_head');
      const tableText = tables.map((m) => `${m.key} ${m.format} ${mib(matrixBytes(m.format, m.rows, m.cols))}`).join(', ');
      // A context past the model's max_position_embeddings is not offered (LLaMA-1: 2048).
      const plans = CONTEXTS.map((contextLength) => (contextLength <= config.maxPositions ? planMemory(config, layout, { contextLength, ...SHAPE }) : undefined));
      const each = (value: (plan: NonNullable<(typeof plans)[number]>) => number) => plans.map((p) => (p ? gib(value(p)) : '—')).join(' / ');
      const split = planMemory(config, layout, { contextLength: CONTEXTS[0], ...SHAPE }, SMALLEST_LIMIT);
      const blocks = [...split.blockRows].filter(([key]) => !key.startsWith('layers.') || key.startsWith('layers.0.')).map(([key, rows]) => `${key.replace('layers.0.', 'each layer\'s ')} ${Math.ceil(layout.matrices.find((m) => m.key === key)!.rows / rows)}`);
      rows.push(
        `| ${name} | ${dtype} | ${gib(plans[0]!.weightBytes)} | ${tableText} | ${each((p) => p.kvCacheBytes)} | ${gib(plans[0]!.activationBytes)} | **${each((p) => p.totalBytes)}** | ${blocks.join(', ') || 'none'} |`,
      );
    }
  }
  return `${HEADING}

What the engine's memory planner (\`planMemory\`, src/model/memory-plan.ts) allocates on the GPU for
these repos, from their own config.json (src/model/testing/hub-configs.ts): **plans, computed, not
measured**. Shapes as the app loads a chat model: prefill chunks of ${SHAPE.maxChunk} tokens, ${SHAPE.logitsRows} rows of logits for
scoring, an f16 KV cache. The app's longest context is 2048 tokens; 8192 is Llama-3's pre-training
context (— where a model's max_position_embeddings is shorter). At q4 a table of 256 MiB or more in f16 (both of these vocabularies) is q4 too
(src/model/weights.ts). The last column is how many row blocks a matrix becomes on an adapter that
binds only WebGPU's default ${mib(SMALLEST_LIMIT)} per buffer (split, never refused; most adapters bind 1-4 GiB
and split nothing). src/model/memory-plans.test.ts holds this section to the planner.

| model | dtype | weights | of which embedding / lm_head | KV cache, 2048 / 8192 tokens | activations | total, 2048 / 8192 tokens | split at 128 MiB bindings |
|---|---|---:|---|---:|---:|---:|---|
${rows.join('\n')}

So Llama-3.1-8B and Qwen2.5-7B at q4 need about 5 GiB with an 8192-token context: an 8 GB GPU
holds either, with room for the browser and the desktop; at f16 neither fits 8 GB.
`;
}

describe('BENCHMARKS.md memory plans', () => {
  it('are what the planner computes from the repos\' config.json', async () => {
    const section = renderSection();
    const text = await readFile(FILE, 'utf8');
    const sections = text.split(/^(?=## )/m);
    const at = sections.findIndex((s) => s.startsWith(`${HEADING}\n`));
    if (process.env.UPDATE_MEMORY_PLANS) {
      // After the file's introduction, before the measured sections.
      if (at >= 0) sections[at] = `${section}\n`;
      else sections.splice(1, 0, `${section}\n`);
      await writeFile(FILE, sections.join(''));
      return;
    }
    expect(at, `no "${HEADING}" section: run with UPDATE_MEMORY_PLANS=1`).toBeGreaterThanOrEqual(0);
    expect(sections[at].trimEnd()).toBe(section.trimEnd());
  });

  it('an 8B Llama-3 at q4 fits an 8 GB GPU with an 8192-token context', () => {
    const config = parseConfig(JSON.stringify(LLAMA_31_8B));
    const plan = planMemory(config, weightLayout(config, 'q4', true), { contextLength: 8192, ...SHAPE });
    expect(plan.totalBytes).toBeLessThan(6 * 2 ** 30);
  });
});
