/**
 * The UI's view of the worker's model slots (one per model tab): loading with progress, the
 * loaded model's facts, errors, and why a model went away (evicted to make room for another,
 * or the GPU device was lost). Loads are asked for through `ensure`, which is cheap when the
 * slot already holds the model. Plain TypeScript over the EngineClient; React reads `state`.
 */
import { toErrorData, type ErrorData } from '../../errors';
import type { EngineClient } from '../../worker/client';
import type { LoadCost } from '../../chat/load-cost';
import type { LoadedInfo, LoadPhase, LoadProgressEvent } from '../../worker/protocol';
import { requestPersistence } from './storage';
import { Store } from '../common/store';

export interface LoadTarget {
  repo: string;
  dtype: 'q4' | 'f16';
  contextLength: number;
  endpoint: string;
  token: string;
}

export interface SlotState {
  slot: string;
  repo: string;
  status: 'empty' | 'loading' | 'ready' | 'error';
  progress?: LoadProgressEvent;
  /** The phases this load went through, in order. */
  phases: LoadPhase[];
  /** Where this load's download resumed an interrupted one (whole percent of the checkpoint bytes). */
  resumed?: { percent: number; bytes: number };
  info?: LoadedInfo;
  /** What the last load asked for: error advice depends on it. */
  asked?: Pick<LoadTarget, 'dtype' | 'contextLength'>;
  error?: ErrorData;
  generating: boolean;
  /** Why a model that was loaded is not any more. */
  unloadedBecause?: 'evicted' | 'device-lost';
  /** The model's chat template could not render: why, and that the plain format stands in. */
  templateNotice?: string;
}

/** What loading a target would take, as the worker worked it out (or why it could not). */
export type CostState = { status: 'pending' } | { status: 'ready'; cost: LoadCost } | { status: 'error'; error: ErrorData };

export const keyOf = (target: LoadTarget) => JSON.stringify([target.repo, target.dtype, target.contextLength, target.endpoint, target.token]);
const specOf = (target: LoadTarget) => ({ repo: target.repo, endpoint: target.endpoint, ...(target.token ? { token: target.token } : {}) });

export class ModelSlots {
  readonly state = new Store<Record<string, SlotState>>({});
  /** The message of the last GPU device loss, until the user dismisses it. */
  readonly deviceLost = new Store<string | undefined>(undefined);
  /** By target key: the cost shown before Load. Forgotten when a load of that target ends (its cache changed). */
  readonly costs = new Store<Record<string, CostState>>({});
  private readonly loads = new Map<string, { key: string; requestId: number; promise: Promise<LoadedInfo> }>();
  private readonly loadedKeys = new Map<string, string>();

  constructor(private readonly client: EngineClient) {
    client.onDeviceLost((message) => {
      // The worker dropped every model with the device; loads in flight fail on their own.
      this.loadedKeys.clear();
      this.state.set((all) => Object.fromEntries(Object.entries(all).map(([slot, s]) => [slot, s.status === 'ready' ? { ...s, status: 'empty', info: undefined, unloadedBecause: 'device-lost' } : s])));
      this.deviceLost.set(message);
    });
  }

  get(slot: string): SlotState | undefined {
    return this.state.get()[slot];
  }

  /** Asks the worker, once per target, what loading it would take; the answer lands in `costs`. */
  estimate(target: LoadTarget): void {
    const key = keyOf(target);
    if (this.costs.get()[key]) return;
    const settle = (state: CostState) => this.costs.set((all) => (all[key] ? { ...all, [key]: state } : all));
    this.costs.set((all) => ({ ...all, [key]: { status: 'pending' } }));
    this.client.estimate({ spec: specOf(target), dtype: target.dtype, contextLength: target.contextLength }).then(
      (cost) => settle({ status: 'ready', cost }),
      (error: unknown) => settle({ status: 'error', error: toErrorData(error) }),
    );
  }

  /** Loads `target` into `slot` unless it is there already (or on its way). */
  ensure(slot: string, target: LoadTarget): Promise<LoadedInfo> {
    const key = keyOf(target);
    const current = this.get(slot);
    if (current?.status === 'ready' && current.info && this.loadedKeys.get(slot) === key) return Promise.resolve(current.info);
    const pending = this.loads.get(slot);
    if (pending?.key === key) return pending.promise;
    if (pending) void this.client.stop(pending.requestId);
    void requestPersistence();

    const unloadedBecause = current?.status === 'empty' ? current.unloadedBecause : undefined;
    const asked = { dtype: target.dtype, contextLength: target.contextLength };
    this.patch(slot, { repo: target.repo, status: 'loading', progress: undefined, phases: [], resumed: undefined, info: undefined, asked, error: undefined, unloadedBecause, templateNotice: undefined });
    const running = this.client.load(
      {
        slot,
        spec: specOf(target),
        dtype: target.dtype,
        contextLength: target.contextLength,
      },
      (progress) => {
        // Events of a load that was replaced by another are dropped.
        if (this.loads.get(slot)?.key !== key) return;
        const phases = this.get(slot)?.phases ?? [];
        const resumed = progress.resumedBytes ? { percent: Math.floor((100 * progress.resumedBytes) / progress.totalBytes), bytes: progress.resumedBytes } : this.get(slot)?.resumed;
        this.patch(slot, { progress, resumed, phases: phases.at(-1) === progress.phase ? phases : [...phases, progress.phase] });
      },
    );
    const forgetCost = () => this.costs.set((all) => Object.fromEntries(Object.entries(all).filter(([costKey]) => costKey !== key)));
    void running.result.then(forgetCost, forgetCost);
    const promise = running.result.then(
      (info) => {
        if (this.loads.get(slot)?.requestId === running.requestId) this.loads.delete(slot);
        this.loadedKeys.set(slot, key);
        this.patch(slot, { status: 'ready', info, progress: undefined, unloadedBecause: undefined });
        for (const evicted of info.evicted) {
          this.loadedKeys.delete(evicted);
          this.patch(evicted, { status: 'empty', info: undefined, unloadedBecause: 'evicted' });
        }
        return info;
      },
      (error: unknown) => {
        if (this.loads.get(slot)?.requestId === running.requestId) {
          this.loads.delete(slot);
          const data = toErrorData(error);
          this.patch(slot, data.code === 'cancelled' ? { status: 'empty', progress: undefined } : { status: 'error', error: data, progress: undefined });
        }
        throw error;
      },
    );
    this.loads.set(slot, { key, requestId: running.requestId, promise });
    return promise;
  }

  /** Stops the slot's load in flight (its ensure() rejects with `cancelled`). */
  cancel(slot: string): void {
    const pending = this.loads.get(slot);
    if (pending) void this.client.stop(pending.requestId);
  }

  async unload(slot: string): Promise<void> {
    this.cancel(slot);
    await this.client.unload(slot);
    this.loadedKeys.delete(slot);
    this.patch(slot, { status: 'empty', info: undefined, progress: undefined, unloadedBecause: undefined });
  }

  setGenerating(slot: string, generating: boolean): void {
    this.patch(slot, { generating });
  }

  /** Shows, on the slot's model, why its own chat template is not what renders. */
  setTemplateNotice(slot: string, notice: string): void {
    if (this.get(slot)?.templateNotice !== notice) this.patch(slot, { templateNotice: notice });
  }

  dismissError(slot: string): void {
    if (this.get(slot)?.status === 'error') this.patch(slot, { status: 'empty', error: undefined });
  }

  private patch(slot: string, change: Partial<SlotState>): void {
    this.state.set((all) => {
      const base: SlotState = all[slot] ?? { slot, repo: '', status: 'empty', phases: [], generating: false };
      return { ...all, [slot]: { ...base, ...change } };
    });
  }
}
