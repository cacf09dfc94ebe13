// `npm run cli -- <command> ...`: bundle src/cli/main.ts for Node and run it.
import { pathToFileURL } from 'node:url';
import { bundleNode } from './bundle-node.mjs';

// The bundle goes beside this checkout (.cache/ is git-ignored), not under node_modules: several
// checkouts may share one node_modules (git worktrees), and each must run its own code.
const out = await bundleNode('src/cli/main.ts', '.cache/korean-vicuna/cli.mjs');
const { main } = await import(pathToFileURL(out).href);
const code = await main(process.argv.slice(2));
// Dawn keeps the process alive while its instance lives: exit explicitly once stdout drains.
process.stdout.write('', () => process.exit(code));
