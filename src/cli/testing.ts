/** Test support: runs the CLI as users do (`node scripts/cli.mjs`, what `npm run -s cli --` runs). */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../model/tiny-model-node';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Starts the CLI; `result` settles when it exits (a killed run has code -1). */
export function spawnCli(args: string[], env: Record<string, string> = {}): { child: ChildProcess; result: Promise<CliResult> } {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'scripts/cli.mjs'), ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env } });
  const result = new Promise<CliResult>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
  return { child, result };
}

export function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return spawnCli(args, env).result;
}

export interface RunningServe {
  /** http://HOST:PORT, from serve's `listening on` line. */
  url: string;
  child: ChildProcess;
  /** What serve has written to stderr so far (its load progress). */
  stderr(): string;
  result: Promise<CliResult>;
}

/** Starts `serve` with `args` and resolves once it says where it listens (rejects if it exits first). */
export async function startServe(args: string[], env: Record<string, string> = {}): Promise<RunningServe> {
  const { child, result } = spawnCli(['serve', ...args], env);
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      const match = stdout.match(/^listening on (http:\/\/\S+)\n/);
      if (match) resolve(match[1]);
    });
    void result.then((done) => reject(new Error(`serve exited (${done.code}) before listening:\n${done.stderr}`)));
  });
  return { url, child, stderr: () => stderr, result };
}
