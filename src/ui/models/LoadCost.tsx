import { useEffect } from 'react';
import { contradicted } from '../../chat/load-cost';
import { formatBytes } from '../common/format';
import { useServices } from '../shell/useServices';
import { useStore } from '../common/useStore';
import { keyOf, type LoadTarget } from './model-slots';

/**
 * Before the first Load of a model: what it will take (download, disk kept at the chosen dtype,
 * GPU memory with the KV cache at the chosen context), whether the browser's storage has room,
 * and the license the model card states, with a link to the card.
 */
export function LoadCost({ target }: { target: LoadTarget }) {
  const { slots } = useServices();
  const key = keyOf(target);
  const state = useStore(slots.costs)[key];
  // The key stands for the target (a new object each render).
  useEffect(() => slots.estimate(target), [slots, key]);

  if (!state || state.status === 'pending') {
    return (
      <div data-testid="load-cost" data-state="pending" className="text-xs text-zinc-500">
        필요한 용량을 확인하는 중… (checking what Load will take)
      </div>
    );
  }
  if (state.status === 'error' && state.error.code === 'bad-model') {
    // Not a hub hiccup that Load would retry: the repo itself is refused (another architecture, a
    // broken config.json). Say so before anyone downloads, with the engine's reason.
    return (
      <div data-testid="load-cost" data-state="error" data-code={state.error.code} role="alert" className="text-xs text-rose-700 dark:text-rose-300">
        이 엔진이 읽을 수 없는 모델입니다 (unsupported model): <span data-testid="load-cost-error">{state.error.message}</span>
      </div>
    );
  }
  if (state.status === 'error') {
    return (
      <div data-testid="load-cost" data-state="error" data-code={state.error.code} className="text-xs text-zinc-500" title={state.error.message}>
        허브에서 크기를 확인하지 못했습니다 ({state.error.code}). 불러오기를 누르면 다시 시도합니다.
      </div>
    );
  }
  const { cost } = state;
  const room = cost.storage;
  // After a refused write the estimate's figure is wrong: no figure, no promise.
  const refused = room !== undefined && contradicted(room);
  return (
    <div data-testid="load-cost" data-state="ready" data-cached={cost.cached} className="space-y-1 rounded-xl border border-zinc-200 p-3 text-xs text-zinc-700 dark:border-zinc-800 dark:text-zinc-300">
      <div className="flex flex-wrap gap-x-4 gap-y-1">
        <span data-testid="load-cost-download" data-bytes={cost.cached ? 0 : cost.downloadBytes}>
          {cost.cached ? '캐시됨: 다운로드 없음 (cached, no download)' : `다운로드 ${formatBytes(cost.downloadBytes)} (download)`}
        </span>
        <span data-testid="load-cost-disk" data-bytes={cost.diskBytes}>
          저장 공간 {formatBytes(cost.diskBytes)} ({cost.dtype}, disk)
        </span>
        <span data-testid="load-cost-gpu" data-bytes={cost.gpu.totalBytes}>
          GPU 메모리 {formatBytes(cost.gpu.totalBytes)}: 가중치 {formatBytes(cost.gpu.weightBytes)} + KV 캐시 {formatBytes(cost.gpu.kvCacheBytes)} ({cost.contextLength} 토큰)
        </span>
        {room && (
          <span data-testid="load-cost-storage" data-fits={room.fits} data-refused={room.refused === true}>
            {refused ? '브라우저 저장소 여유: 알 수 없음 (unknown: a write was refused)' : `브라우저 저장소 여유 ${formatBytes(room.availableBytes)}`}
            {room.fits ? ' · 충분함 (fits)' : ''}
          </span>
        )}
      </div>
      {cost.partialBytes !== undefined && !cost.cached && (
        <p data-testid="load-cost-partial">
          지난번 다운로드가 {Math.floor((100 * cost.partialBytes) / cost.diskBytes)}% 저장되어 있어, 불러오면 그다음부터 이어받습니다.
        </p>
      )}
      {refused && (
        <p data-testid="load-cost-refused" className="font-medium text-amber-800 dark:text-amber-300">
          브라우저가 방금 캐시 저장을 거부했습니다. 브라우저가 알려 준 여유 공간과 맞지 않아 남은 공간을 알 수 없으므로, 이번에도 저장되지 않을 수 있습니다 (the browser refused to store
          more, so its free-space estimate is wrong here). 모델은 캐시 없이도 실행됩니다. 저장하려면 디스크 공간을 비우거나, 모델 관리에서 캐시된 모델을 지우거나, 저장 공간 영구 보존을
          허용하세요.
        </p>
      )}
      {room && !room.fits && !refused && (
        <p data-testid="load-cost-no-room" className="font-medium text-rose-700 dark:text-rose-300">
          저장 공간이 부족합니다: {formatBytes(room.neededBytes)}가 필요한데 {formatBytes(room.availableBytes)}만 남아 있습니다 (not enough storage). 모델은 실행되지만
          저장되지 않아 다음에 다시 받아야 합니다. 모델 관리에서 다른 캐시를 지우거나 영구 보존을 허용하세요.
        </p>
      )}
      <p data-testid="load-license" data-license={cost.license ?? ''}>
        라이선스 (license): {cost.license ?? '모델 카드에 적혀 있지 않음 (not stated)'} ·{' '}
        <a href={cost.cardUrl} target="_blank" rel="noopener noreferrer" className="underline" data-testid="load-license-card">
          모델 카드 (model card)
        </a>
      </p>
    </div>
  );
}
