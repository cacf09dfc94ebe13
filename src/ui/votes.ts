/**
 * Blind mode and the user's votes, kept in IndexedDB (idb-keyval) in this browser only: each
 * vote with the prompt, both answers as shown (A, B), the settings and the seeds. One vote per
 * judged question; the scoreboard is computed from them (eval/votes.ts).
 */
import * as idb from 'idb-keyval';
import { toJsonl } from '../eval/results';
import { blindOrder, voteLine, type Verdict, type Vote } from '../eval/votes';
import { chatSettings, type SettingsStore } from './settings';
import { Store } from './store';
import type { CompareTab } from './tabs';
import { newId, type CompareTurn, type KeyValueStore } from './threads';

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

  /** Records a vote unless `key` has one already (the names are out by then). */
  async add(vote: Omit<Vote, 'id' | 'time'>): Promise<void> {
    if (this.voteFor(vote.key)) return;
    this.votes.set((votes) => [...votes, { ...vote, id: newId(), time: new Date().toISOString() }]);
    await this.storage.set(VOTES_KEY, this.votes.get());
  }

  /** A vote on a Compare turn, its answers in the blind order it was shown in. */
  voteTurn(tab: CompareTab, turn: CompareTurn, verdict: Verdict): Promise<void> {
    const order = blindOrder(turn.id);
    // What the answers were generated with (both alike: Compare's settings), else today's settings.
    const { seed, ...settings } = turn.answers[order[0]].settings ?? chatSettings(this.settings.tab('compare'));
    return this.add({
      key: turn.id,
      source: 'compare',
      prompt: turn.prompt,
      models: [modelOf(tab, turn, order[0]), modelOf(tab, turn, order[1])],
      answers: [turn.answers[order[0]].content, turn.answers[order[1]].content],
      verdict,
      settings,
      seed,
      sidesSeed: turn.id,
    });
  }

  async clear(): Promise<void> {
    this.votes.set([]);
    await this.storage.del(VOTES_KEY);
  }

  exportJsonl(): string {
    return toJsonl(this.votes.get().map(voteLine));
  }
}

/** Who wrote answer `side` of the turn (the answer says; the tab may point elsewhere since). */
function modelOf(tab: CompareTab, turn: CompareTurn, side: number): Vote['models'][number] {
  return { repo: turn.answers[side].repo ?? tab.models[side].repo, revision: DEFAULT_REVISION };
}
