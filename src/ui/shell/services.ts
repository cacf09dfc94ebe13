/**
 * Everything the components share, made once at start: the engine worker, its client and the
 * OpenAI-shaped engine client over it, and the plain-TypeScript stores and controllers over them.
 * Components get it through useServices.
 */
import { createContext } from 'react';
import { EngineClient } from '../../worker/client';
import { openBench, type Bench } from '../compare/bench';
import type { EngineApi } from '../../api/engine-api';
import { appEngine, ChatController } from '../chat/chat-controller';
import { CompareController } from '../compare/compare-controller';
import { ConversationActions } from '../conversations/conversation-actions';
import { ModelSlots } from '../models/model-slots';
import { SettingsStore } from '../settings/settings';
import { readUrlOptions, type UrlOptions } from '../common/tabs';
import { Threads } from '../conversations/threads';

export interface Services {
  client: EngineClient;
  /** The OpenAI-shaped engine client (api/engine-api.ts): answers go through it, one at a time per model. */
  engine: EngineApi;
  settings: SettingsStore;
  slots: ModelSlots;
  threads: Threads;
  chats: ChatController;
  compare: CompareController;
  bench: Bench;
  conversations: ConversationActions;
  url: UrlOptions;
}

let started: Promise<Services> | undefined;

/** One set per page, however often React mounts the app (StrictMode mounts twice in development). */
export function startServices(): Promise<Services> {
  started ??= createServices();
  return started;
}

async function createServices(): Promise<Services> {
  const url = readUrlOptions(location.search);
  const worker = new Worker(new URL('../../worker/engine.worker.ts', import.meta.url), { type: 'module', name: 'engine' });
  const client = new EngineClient(worker);
  const settings = await SettingsStore.open(url.hub);
  const slots = new ModelSlots(client);
  const threads = new Threads();
  const engine = appEngine(client, slots);
  const chats = new ChatController(client, slots, settings, threads, engine);
  const compare = new CompareController(chats, threads);
  const bench = await openBench(client, slots, chats, settings);
  return { client, engine, settings, slots, threads, chats, compare, bench, conversations: new ConversationActions(threads, chats, compare), url };
}

export const ServicesContext = createContext<Services | null>(null);
