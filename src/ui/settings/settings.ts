/**
 * User settings: sampling and system prompt per tab, model storage format, context length and
 * hub access for all tabs. Persisted in IndexedDB (idb-keyval); the hub endpoint given in the
 * page URL overrides the saved one for this visit only.
 *
 * A tab's sampling: what the user changed, else its model's generation_config.json (learnt when
 * the model loads), else the app's defaults. Only the values the user changed are saved, so a
 * value they never touched follows the model's.
 */
import { get, set } from 'idb-keyval';
import type { ChatSettings } from '../../chat/engine';
import { KOREAN_VICUNA_SYSTEM_PROMPT } from '../../chat/template';
import { Store } from '../common/store';

export interface TabSettings {
  temperature: number;
  topK: number;
  topP: number;
  repetitionPenalty: number;
  maxNewTokens: number;
  seed: number;
  systemPrompt: string;
}

export interface AppSettings {
  dtype: 'q4' | 'f16';
  /** Tokens the KV cache holds; longer costs GPU memory. */
  contextLength: number;
  hubEndpoint: string;
  /** Hugging Face access token for gated or private repos; stays in this browser. */
  token: string;
  customRepo: string;
  /** Per tab, only the values the user changed. */
  tabs: Record<string, Partial<TabSettings>>;
  /** Per repo, its generation_config.json's sampling, as its last load reported it. */
  repoDefaults: Record<string, Partial<TabSettings>>;
}

export const DEFAULT_HUB = 'https://huggingface.co';
export const CONTEXT_LENGTHS = [512, 1024, 2048] as const;

export const DEFAULT_TAB_SETTINGS: TabSettings = {
  temperature: 0.7,
  topK: 40,
  topP: 0.9,
  repetitionPenalty: 1.1,
  maxNewTokens: 512,
  seed: 0,
  systemPrompt: KOREAN_VICUNA_SYSTEM_PROMPT,
};

export const DEFAULT_SETTINGS: AppSettings = {
  dtype: 'q4',
  contextLength: 2048,
  hubEndpoint: DEFAULT_HUB,
  token: '',
  customRepo: '',
  tabs: {},
  repoDefaults: {},
};

const SAMPLING_KEYS = ['temperature', 'topK', 'topP', 'repetitionPenalty'] as const;

const KEY = 'settings:v1';

export class SettingsStore extends Store<AppSettings> {
  /** `hubOverride`, from the URL's `hub=`, is used instead of the saved endpoint and never saved. */
  constructor(
    settings: AppSettings,
    private readonly hubOverride?: string,
  ) {
    super(settings);
  }

  static async open(hubOverride?: string): Promise<SettingsStore> {
    const saved = (await get<Partial<AppSettings>>(KEY)) ?? {};
    const store = new SettingsStore({ ...DEFAULT_SETTINGS, ...saved, tabs: { ...saved.tabs }, repoDefaults: { ...saved.repoDefaults } }, hubOverride);
    store.subscribe(() => void set(KEY, store.get()));
    return store;
  }

  /** The endpoint models load from now. */
  hub(): string {
    return this.hubOverride ?? this.get().hubEndpoint;
  }

  hubIsOverridden(): boolean {
    return this.hubOverride !== undefined;
  }

  /**
   * The token to send to hub(): never the saved one to an endpoint that only a link chose, so
   * that a crafted `?hub=` cannot collect the user's Hugging Face token.
   */
  token(): string {
    const { token, hubEndpoint } = this.get();
    return this.hubOverride === undefined || this.hubOverride === hubEndpoint ? token : '';
  }

  /** Tab `id`'s settings; `repo`: its model, whose generation_config.json fills what the user left. */
  tab(id: string, repo?: string): TabSettings {
    const { tabs, repoDefaults } = this.get();
    return { ...DEFAULT_TAB_SETTINGS, ...(repo ? repoDefaults[repo] : undefined), ...tabs[id] };
  }

  /** The sampling values of tab `id` that come from `repo`'s generation_config.json (the user left them). */
  fromRepo(id: string, repo: string): (keyof TabSettings)[] {
    const { tabs, repoDefaults } = this.get();
    return SAMPLING_KEYS.filter((key) => repoDefaults[repo]?.[key] !== undefined && tabs[id]?.[key] === undefined);
  }

  /** Records `repo`'s generation_config.json sampling (a load reports it). */
  setRepoDefaults(repo: string, defaults: Partial<Pick<TabSettings, (typeof SAMPLING_KEYS)[number]>>): void {
    const values = Object.fromEntries(SAMPLING_KEYS.filter((key) => defaults[key] !== undefined).map((key) => [key, defaults[key]]));
    const current = this.get().repoDefaults[repo];
    if (JSON.stringify(current ?? {}) === JSON.stringify(values)) return;
    this.set((settings) => ({ ...settings, repoDefaults: { ...settings.repoDefaults, [repo]: values } }));
  }

  update(change: Partial<AppSettings>): void {
    this.set((current) => ({ ...current, ...change }));
  }

  updateTab(id: string, change: Partial<TabSettings>): void {
    this.set((current) => ({ ...current, tabs: { ...current.tabs, [id]: { ...current.tabs[id], ...change } } }));
  }

  resetTab(id: string): void {
    this.set((current) => {
      const tabs = { ...current.tabs };
      delete tabs[id];
      return { ...current, tabs };
    });
  }
}

/** What the worker's generate takes, from a tab's settings. */
export function chatSettings(tab: TabSettings): ChatSettings {
  return {
    temperature: tab.temperature,
    topK: tab.topK,
    topP: tab.topP,
    repetitionPenalty: tab.repetitionPenalty,
    maxNewTokens: tab.maxNewTokens,
    seed: tab.seed,
    template: 'auto',
    systemPrompt: tab.systemPrompt,
  };
}
