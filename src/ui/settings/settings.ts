/**
 * User settings: sampling and system prompt per tab, model storage format, context length and
 * hub access for all tabs. Persisted in IndexedDB (idb-keyval); the hub endpoint given in the
 * page URL overrides the saved one for this visit only.
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
  tabs: Record<string, TabSettings>;
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
};

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
    const store = new SettingsStore({ ...DEFAULT_SETTINGS, ...saved, tabs: { ...saved.tabs } }, hubOverride);
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

  tab(id: string): TabSettings {
    return { ...DEFAULT_TAB_SETTINGS, ...this.get().tabs[id] };
  }

  update(change: Partial<AppSettings>): void {
    this.set((current) => ({ ...current, ...change }));
  }

  updateTab(id: string, change: Partial<TabSettings>): void {
    this.set((current) => ({ ...current, tabs: { ...current.tabs, [id]: { ...this.tab(id), ...change } } }));
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
