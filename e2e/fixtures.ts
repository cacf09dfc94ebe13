/**
 * e2e fixtures. Per Playwright worker: a fake Hugging Face hub on 127.0.0.1 serving tiny LLaMA
 * repos (two random ones, and the scripted one whose answers are known texts), and the built app
 * on a static server. Per test: an `app` with the steps
 * every test takes, which first checks that the page really has WebGPU (a failure, not a skip).
 * Every test runs in a fresh browser context: no service worker or Cache Storage left by an
 * earlier test (or an earlier build of dist/) can serve its pages.
 */
import { test as base, expect, type Page } from '@playwright/test';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TurnReport } from '../src/cli/chat-script';
import { cli } from '../src/cli/testing';
import { startFakeHub, type FakeHub } from '../src/loader/testing/fake-hub';
import { buildScriptedByteLevelModel, LLAMA3_SCRIPT, QWEN3_SCRIPT } from '../src/chat/testing/scripted-byte-level';
import { buildScriptedModel } from '../src/model/scripted-model';
import { realTokenizerFiles } from '../src/tokenizer/testing/real-tokenizers';
import { buildTinyModel, type TinyModelSpec } from '../src/model/tiny-model';
import { REPO_ROOT, llamaTokenizerModel } from '../src/model/tiny-model-node';
import { serveStatic } from './static-server';

export const ARTIFACTS = path.join(REPO_ROOT, 'e2e/artifacts');

export const REPOS = {
  random: 'e2e/tiny-random',
  randomB: 'e2e/tiny-random-b',
  scripted: 'e2e/scripted',
  /** The scripted model behind a token (the fake hub's FAKE_HUB_TOKEN). */
  gated: 'e2e/gated',
  /** intermediate_size 176: q4 keeps its down_proj in f16 (torch .bin shards). */
  mlp176: 'e2e/mlp-176',
  /** Scripted Korean answers through byte-level BPE: Llama-3's tokenizer files (stops at <|eot_id|>), Qwen3's (<|im_end|>). */
  llama3: 'e2e/llama3-scripted',
  qwen3: 'e2e/qwen3-scripted',
} as const;

const TINY: Omit<TinyModelSpec, 'seed'> = { hiddenSize: 64, intermediateSize: 128, numLayers: 2, numHeads: 4, numKvHeads: 2, dtype: 'F16', format: 'safetensors', shards: 1, maxPositions: 512 };

export interface E2eEnv {
  hub: FakeHub;
  site: string;
  /** The CLI's weights cache for this worker. */
  cliCacheDir: string;
  /** The fake hub's CDN path of a repo's (LFS) file, to aim faults at it. */
  cdnPath(repo: string, file: string): string;
  /** The byte-level scripted repos' greedy ids (answer then stop token), by repo. */
  scriptedIds: Record<string, number[]>;
}

export interface GenerateSettings {
  temperature?: number;
  repetitionPenalty?: number;
  maxNewTokens?: number;
  contextLength?: number;
}

export class App {
  readonly dialogs: string[] = [];
  readonly pageErrors: string[] = [];

  constructor(
    readonly page: Page,
    readonly env: E2eEnv,
  ) {
    page.on('dialog', (dialog) => {
      this.dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    page.on('pageerror', (error) => this.pageErrors.push(error.message));
  }

  /**
   * Opens the app on the fake hub with `models` replacing the default tab models, in order;
   * from `site` (the app's folder URL, no trailing slash) when it is not the shared server's root.
   */
  async open(models: string[], site = this.env.site): Promise<void> {
    const query = new URLSearchParams([['hub', this.env.hub.url], ...models.map((model) => ['model', model])]);
    await this.page.goto(`${site}/?${query}`);
    const adapter = await this.page.evaluate(async () => {
      const found = await navigator.gpu?.requestAdapter();
      return found ? `${found.info.vendor} ${found.info.architecture}` : null;
    });
    expect(adapter, 'WebGPU is missing in this Chromium: the e2e tests need an adapter (SwiftShader)').not.toBeNull();
    await expect(this.page.getByTestId('tab-0')).toBeVisible();
  }

  async tab(index: number): Promise<void> {
    await this.page.getByTestId(`tab-${index}`).click();
  }

  /** Sets the open tab's sampling (and the shared context length) in the settings panel. */
  async settings(settings: GenerateSettings): Promise<void> {
    const page = this.page;
    await page.getByTestId('open-settings').click();
    const fill = async (id: string, value: number | undefined) => {
      if (value !== undefined) await page.getByTestId(id).fill(String(value));
    };
    await fill('setting-temperature', settings.temperature);
    await fill('setting-repetition-penalty', settings.repetitionPenalty);
    await fill('setting-max-new-tokens', settings.maxNewTokens);
    if (settings.contextLength !== undefined) await page.getByTestId('setting-context-length').selectOption(String(settings.contextLength));
    await page.getByTestId('settings-close').click();
  }

  /** Clicks Load in the open tab and waits for the model; returns the status chip. */
  async load(): Promise<void> {
    await this.page.getByTestId('load-model').first().click();
    await expect(this.page.getByTestId('model-status').first()).toBeVisible({ timeout: 120_000 });
  }

  async send(text: string): Promise<void> {
    await this.page.getByTestId('chat-input').fill(text);
    await this.page.getByTestId('send').click();
  }

  /** Waits for the `index`-th answer to finish and returns its text as shown. */
  async answer(index = 0): Promise<string> {
    const message = this.page.getByTestId('message-assistant').nth(index);
    await expect(message).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
    return message.getByTestId('answer-text').innerText();
  }

  async screenshot(name: string): Promise<void> {
    await mkdir(ARTIFACTS, { recursive: true });
    await this.page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
  }
}

/**
 * The engine's CLI on the same repo from the same hub: the reference a greedy answer in the app
 * must equal. Asynchronous: the fake hub answering it lives in this process.
 */
export async function cliGenerate(env: E2eEnv, repo: string, prompt: string, flags: string[]): Promise<{ text: string; ids: number[] }> {
  const lines = await cliJsonLines(env, ['generate', '--model', repo, '--prompt', prompt, '--json', ...flags]);
  return lines.at(-1) as { text: string; ids: number[] };
}

/** The CLI's `chat` over `questions` in one conversation: one report per turn. */
export async function cliChat(env: E2eEnv, repo: string, questions: string[], flags: string[]): Promise<TurnReport[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'e2e-chat-'));
  try {
    const script = path.join(dir, 'script.jsonl');
    await writeFile(script, questions.map((user) => JSON.stringify({ user })).join('\n'));
    return (await cliJsonLines(env, ['chat', '--model', repo, '--script', script, '--json', ...flags])) as TurnReport[];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function cliJsonLines(env: E2eEnv, args: string[]): Promise<unknown[]> {
  const { code, stdout, stderr } = await cli([...args, '--cache-dir', env.cliCacheDir], { HF_ENDPOINT: env.hub.url, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' });
  if (code !== 0) throw new Error(`cli ${args[0]} failed (${code}): ${stderr}`);
  return stdout.trim().split('\n').map((line) => JSON.parse(line) as unknown);
}

export const test = base.extend<{ app: App }, { env: E2eEnv }>({
  env: [
    async ({}, use) => {
      const tokenizerModel = await llamaTokenizerModel();
      const repos: Record<string, Map<string, Uint8Array>> = {
        [REPOS.random]: buildTinyModel({ ...TINY, seed: 101, tokenizerModel }).files,
        [REPOS.randomB]: buildTinyModel({ ...TINY, seed: 202, tokenizerModel }).files,
        [REPOS.scripted]: buildScriptedModel(tokenizerModel).files,
        [REPOS.mlp176]: buildTinyModel({ ...TINY, intermediateSize: 176, format: 'torch', shards: 2, seed: 303, tokenizerModel }).files,
      };
      const byteLevel = { [REPOS.llama3]: buildScriptedByteLevelModel(realTokenizerFiles('llama3'), LLAMA3_SCRIPT), [REPOS.qwen3]: buildScriptedByteLevelModel(realTokenizerFiles('qwen3'), QWEN3_SCRIPT) };
      for (const [repo, scripted] of Object.entries(byteLevel)) repos[repo] = scripted.files;
      const scriptedIds = Object.fromEntries(Object.entries(byteLevel).map(([repo, scripted]) => [repo, scripted.ids]));
      const hub = await startFakeHub();
      // The model card's license, as LLaMA-1 repos state it.
      for (const [repo, files] of Object.entries(repos)) hub.addRepo(repo, files, { license: 'other' });
      hub.addRepo(REPOS.gated, repos[REPOS.scripted], { gated: true });
      const cliCacheDir = await mkdtemp(path.join(tmpdir(), 'e2e-cli-cache-'));
      const site = await serveStatic(path.join(REPO_ROOT, 'dist'));
      const cdnPath = (repo: string, file: string) => `/lfs-cdn/${createHash('sha256').update(repos[repo].get(file)!).digest('hex')}`;
      await use({ hub, site: site.url, cliCacheDir, cdnPath, scriptedIds });
      await site.close();
      await hub.close();
      await rm(cliCacheDir, { recursive: true, force: true });
    },
    { scope: 'worker' },
  ],
  app: async ({ page, env }, use) => {
    env.hub.faults.clear();
    const app = new App(page, env);
    await use(app);
    expect(app.pageErrors, 'uncaught errors in the page').toEqual([]);
  },
});

export { expect };
