import { useCallback, useEffect, useState } from 'react';
import { toErrorData, type ErrorData } from '../../errors';
import type { AdapterProbe, CachedModel } from '../../worker/protocol';
import { formatBytes, percent } from '../common/format';
import { useServices } from '../shell/useServices';
import { useStore } from '../common/useStore';
import { isPersisted, requestPersistence } from './storage';
import { Drawer } from '../common/Drawer';
import { ErrorPanel } from '../common/ErrorPanel';
import { LoadProgress } from './LoadProgress';

/** GPU and storage facts, models in the worker's slots, and the browser cache of converted models. */
export function ModelManager({ onClose }: { onClose: () => void }) {
  const { client, slots } = useServices();
  const slotStates = useStore(slots.state);
  const active = Object.values(slotStates).filter((s) => s.status !== 'empty');
  const [cached, setCached] = useState<CachedModel[] | null>(null);
  const [probe, setProbe] = useState<AdapterProbe | null>(null);
  const [persisted, setPersisted] = useState<boolean | null>(null);
  const [error, setError] = useState<ErrorData | null>(null);

  const refresh = useCallback(async () => {
    try {
      setError(null);
      const [models, adapter] = await Promise.all([client.listCache(), client.probe()]);
      setCached(models);
      setProbe(adapter);
      setPersisted(await isPersisted());
    } catch (caught) {
      setError(toErrorData(caught));
    }
  }, [client]);
  useEffect(() => void refresh(), [refresh]);

  const remove = async (id: string) => {
    await client.deleteCache(id).catch((caught: unknown) => setError(toErrorData(caught)));
    await refresh();
  };
  const storage = probe?.storage;

  return (
    <Drawer title="모델 관리 (Models)" testId="model-manager" onClose={onClose}>
      {error && <ErrorPanel error={error} compact onRetry={() => void refresh()} />}
      <section className="space-y-1 text-sm">
        <h3 className="section-title">GPU와 저장 공간</h3>
        <p data-testid="adapter">GPU: {probe ? `${probe.description || '알 수 없음'}${probe.isFallback ? ' (소프트웨어 렌더러: 느림)' : ''} · 최대 버퍼 ${formatBytes(probe.maxBufferBytes)} · shader-f16 ${probe.hasShaderF16 ? '있음' : '없음'}` : '확인 중…'}</p>
        <p data-testid="storage-usage">
          캐시 사용량: {storage ? `${formatBytes(storage.usedBytes)}${storage.quotaBytes ? ` / ${formatBytes(storage.quotaBytes)}` : ''}` : '—'}
        </p>
        <div className="flex flex-wrap items-center gap-2">
          <span data-testid="storage-persisted">영구 보존: {persisted === null ? '—' : persisted ? '허용됨 (persistent)' : '아니오 (브라우저가 지울 수 있음)'}</span>
          {persisted === false && (
            <button type="button" className="btn-ghost" onClick={() => void requestPersistence().then(setPersisted)}>
              영구 보존 요청
            </button>
          )}
        </div>
      </section>

      <section className="space-y-2">
        <h3 className="section-title">불러온 모델 (GPU)</h3>
        {active.length === 0 && <p className="text-sm text-zinc-500">없음</p>}
        {active.map((state) => (
            <div key={state.slot} className="space-y-2 rounded-xl border border-zinc-200 p-3 text-sm dark:border-zinc-800" data-testid="loaded-model">
              <div className="flex items-center justify-between gap-2">
                <span className="min-w-0 truncate font-mono text-xs">{state.repo}</span>
                {state.status === 'ready' && (
                  <button type="button" className="btn-ghost" onClick={() => void slots.unload(state.slot)}>
                    내리기 (Unload)
                  </button>
                )}
              </div>
              {state.info && (
                <p className="text-xs text-zinc-500">
                  {state.info.dtype} · GPU {formatBytes(state.info.gpuBytes)} · 컨텍스트 {state.info.contextLength} · {state.info.fromCache ? '캐시에서' : '허브에서'} {(state.info.loadMs / 1000).toFixed(1)}초
                </p>
              )}
              {state.status === 'loading' && <LoadProgress state={state} onCancel={() => slots.cancel(state.slot)} />}
              {state.status === 'error' && state.error && <ErrorPanel error={state.error} context={state.asked} compact />}
            </div>
          ))}
      </section>

      <section className="space-y-2">
        <div className="flex items-center justify-between">
          <h3 className="section-title">브라우저 캐시 (OPFS)</h3>
          <button type="button" className="btn-ghost" onClick={() => void refresh()}>
            새로 고침
          </button>
        </div>
        {cached?.length === 0 && <p className="text-sm text-zinc-500">캐시된 모델이 없습니다. 처음 불러온 모델은 변환되는 대로 여기에 저장되어, 다음에는 다운로드 없이 몇 초 안에 열립니다. 도중에 끊긴 다운로드는 다음에 불러올 때 이어받습니다.</p>}
        {cached?.map((model) => (
          <div key={model.id} data-testid="cached-model" data-partial={model.partial ? 'true' : undefined} className="flex items-center justify-between gap-2 rounded-xl border border-zinc-200 p-3 text-sm dark:border-zinc-800">
            <div className="min-w-0">
              <div className="truncate font-mono text-xs">{model.repo}</div>
              <div className="text-xs text-zinc-500">
                {model.dtype} · {formatBytes(model.bytes)}
                {model.partial
                  ? ` / ${formatBytes(model.partial.expectedBytes)} · 일부만 받음 ${Math.floor(percent(model.bytes, model.partial.expectedBytes))}% (partial) · ${model.partial.live ? '받는 중' : '다음에 불러오면 이어받습니다'}`
                  : ` · ${model.revision.slice(0, 10)}`}{' '}
                · {new Date(model.createdAt).toLocaleDateString('ko-KR')}
              </div>
            </div>
            <button type="button" className="btn-danger-ghost" data-testid="cached-model-delete" disabled={model.partial?.live} onClick={() => void remove(model.id)}>
              삭제
            </button>
          </div>
        ))}
      </section>
    </Drawer>
  );
}
