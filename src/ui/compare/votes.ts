/**
 * Blind mode and the user's votes, kept in IndexedDB (idb-keyval) in this browser only: each
 * vote with the prompt, both answers as shown (A, B), the settings and the seeds. One vote per
 * judged question; the scoreboard is computed from them (eval/votes.ts).
 */
import * as idb from 'idb-keyval';
import type { ChatSettings } from '../../chat/engine';
import { toJsonl } from '../../eval/results';
import { blindOrder, voteLine, type Verdict, type Vote } from '../../eval/votes';
import { chatSettings, type SettingsStore } from '../settings/settings';
import { Store } from '../common/store';
import type { CompareTab } from '../common/tabs';
import { newId, type CompareTurn, type KeyValueStore } from '../conversations/threads';

const VOTES_KEY = 'bench:votes:v1';
const BLIND_KEY = 'bench:blind:v1';

/** What the app loads when no revision is asked for: the hub's default branch. */
export const DEFAULT_REVISION = 'main';

export class VoteStore {
  readonly votes = new Store<Vote[]>([]);
  readonly blind = new Store<boolean>(false);

  constructor(
    private readonly settings: SettingsStore,
    private readonly storage: KeyValueStore = idb,
  ) {}

  async open(): Promise<void> {
    const [votes, blind] = await Promise.all([this.storage.get<Vote[]>(VOTES_KEY), this.storage.get<boolean>(BLIND_KEY)]);
    this.votes.set(Array.isArray(votes) ? votes : []);
    this.blind.set(blind === true);
  }

  setBlind(on: boolean): void {
    this.blind.set(on);
    void this.storage.set(BLIND_KEY, on);
  }

  voteFor(key: string): Vote | undefined {
    return this.votes.get().find((vote) => vote.key === key);
  }

  /**
   * Records a blind vote on `key` unless it has one already (the names are out by then). `sides`
   * come in model order; they are stored in the order blindOrder(key) showed them, A then B.
   */
  async addBlind(
    key: string,
    source: Vote['source'],
    prompt: string,
    sides: [BlindSide, BlindSide],
    verdict: Verdict,
    { seed, ...settings }: ChatSettings,
  ): Promise<void> {
    if (this.voteFor(key)) return;
    const [a, b] = blindOrder(key).map((side) => sides[side]);
    const vote: Vote = { id: newId(), time: new Date().toISOString(), key, source, prompt, models: [a.model, b.model], answers: [a.answer, b.answer], verdict, settings, seed, sidesSeed: key };
    this.votes.set((votes) => [...votes, vote]);
    await this.storage.set(VOTES_KEY, this.votes.get());
  }

  /** A vote on a Compare turn. */
  voteTurn(tab: CompareTab, turn: CompareTurn, verdict: Verdict): Promise<void> {
    const side = (i: number): BlindSide => ({ model: modelOf(tab, turn, i), answer: turn.answers[i].content });
    // What the answers were generated with (both alike: Compare's settings), else today's settings.
    const settings = turn.answers[blindOrder(turn.id)[0]].settings ?? chatSettings(this.settings.tab('compare'));
    return this.addBlind(turn.id, 'compare', turn.prompt, [side(0), side(1)], verdict, settings);
  }

  async clear(): Promise<void> {
    this.votes.set([]);
    await this.storage.del(VOTES_KEY);
  }

  exportJsonl(): string {
    return toJsonl(this.votes.get().map(voteLine));
  }
}

/** One side of a blind pair: who wrote it and what. */
export interface BlindSide {
  model: Vote['models'][number];
  answer: string;
}

/** Who wrote answer `side` of the turn (the answer says; the tab may point elsewhere since). */
function modelOf(tab: CompareTab, turn: CompareTurn, side: number): Vote['models'][number] {
  return { repo: turn.answers[side].repo ?? tab.models[side].repo, revision: DEFAULT_REVISION };
}
