// The correctness half of scripts/gpu-bench.sh (issue 22): on whatever adapter this machine has,
// runs `selftest` (tiny MHA and GQA models against float64 at f32, f16 with either KV cache, q4,
// golden greedy) and the kernel and forward-pass test files themselves (every kernel against its
// float64 reference at odd sizes: fused decode attention past 256 keys, the int8-dot GEMV, token
// log-probabilities, the f16 KV cache...), then writes the verdict into BENCHMARKS.md as a
// section whose line begins `Correctness on this adapter:`. Exits 1 when any check fails.
//
// scripts/gpu-pack.sh bundles this file with the test files (build.mjs) into .gpu/check.mjs, so
// it runs where there is Node but no node_modules; `node scripts/gpu-check/build.mjs --run`
// bundles and runs it here.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runSelftest } from '../../src/cli/selftest.ts';
import { testGpu } from '../../src/gpu/testing.ts';
import { runTests } from './vitest-shim.mjs';
import { TEST_FILES } from './test-files.mjs';
import { importTestFiles } from 'gpu-check:test-files';

const gpu = await testGpu();
const adapter = gpu.context.adapter.description;
const machine = process.env.BENCH_MACHINE || adapter;
const features = `subgroups ${gpu.subgroups}, shader-f16 ${gpu.context.hasShaderF16 ? 'yes' : 'no'}, packed int8 dot ${gpu.packedDot ? 'yes' : 'no'}, subgroup matrices ${gpu.subgroupMatrix ? `yes (${gpu.subgroupMatrix.accessor}, subgroup size ${gpu.subgroupMatrix.subgroupSize})` : 'no'}`;
process.stdout.write(`adapter: ${adapter} (${features})\n`);

const selftest = await runSelftest(gpu, ({ name, value, pass }) => process.stdout.write(`${pass ? 'ok  ' : 'FAIL'} selftest ${name}: ${value.toExponential(3)}\n`));

await importTestFiles();
const results = await runTests((r) => {
  const name = `${r.file} > ${r.path.join(' > ')}`;
  process.stdout.write(`${r.error ? 'FAIL' : 'ok  '} ${name} (${r.ms.toFixed(0)} ms)\n`);
  if (r.error) process.stdout.write(`     ${String(r.error.stack ?? r.error.message).split('\n').slice(0, 6).join('\n     ')}\n`);
});

// One entry per test file's top-level describe: "name n/n pass" or "name k of n FAIL".
const groups = new Map();
for (const r of results) {
  const key = r.path.length > 1 ? r.path[0] : r.file.replace(/^.*\//, '');
  const g = groups.get(key) ?? { total: 0, failed: 0 };
  g.total++;
  if (r.error) g.failed++;
  groups.set(key, g);
}
const failedSelftest = selftest.filter((c) => !c.pass);
const failedTests = results.filter((r) => r.error);
const verdict = (pass) => (pass ? 'pass' : 'FAIL');
const line =
  `Correctness on this adapter: ${failedSelftest.length + failedTests.length === 0 ? 'every check passes' : `${failedSelftest.length + failedTests.length} check(s) FAIL`}. ` +
  `selftest: ${selftest.map((c) => `${c.name.replace(/ \(.*\)$/, '').replace(/:.*$/, '')} ${verdict(c.pass)}`).join('; ')}. ` +
  `Kernel and forward-pass tests (${TEST_FILES.length} files, ${results.length} tests): ${[...groups].map(([name, g]) => (g.failed ? `${name} ${g.failed} of ${g.total} FAIL` : `${name} ${g.total}/${g.total} pass`)).join('; ')}.`;

const date = new Date().toISOString().slice(0, 10);
const commit = process.env.BENCH_COMMIT || 'unknown';
const heading = `## ${machine === adapter ? adapter : `${machine}, ${adapter}`} — correctness, commit ${commit}`;
const section = [
  heading,
  '',
  `Checked ${date} at commit ${commit} by scripts/gpu-check (${features}): the selftest against float64, then ${TEST_FILES.join(', ')} as Vitest runs them, with their tolerances.`,
  '',
  line,
  ...(failedSelftest.length + failedTests.length
    ? ['', 'Failures:', '', ...failedSelftest.map((c) => `- selftest ${c.name}: ${c.value.toExponential(3)}`), ...failedTests.map((r) => `- ${r.file} > ${r.path.join(' > ')}: ${String(r.error.message).split('\n')[0]}`)]
    : []),
].join('\n');

// Run from the project root (gpu-bench.sh cds there), as `npm run bench` writes it.
const file = path.resolve(process.env.BENCHMARKS_FILE || 'BENCHMARKS.md');
const existing = await readFile(file, 'utf8').catch(() => '# Benchmarks\n');
const sections = existing.split(/^(?=## )/m).filter((s, i) => i === 0 || !s.startsWith(`${heading}\n`));
sections.push(section);
await writeFile(file, `${sections.map((s) => s.trimEnd()).join('\n\n')}\n`);
process.stdout.write(`\n${line}\n`);
process.exitCode = failedSelftest.length + failedTests.length === 0 ? 0 : 1;
