import { useServices } from '../shell/useServices';
import { useStore } from '../common/useStore';
import { formatBytes, notQ4Count } from '../common/format';
import type { ModelTab } from '../common/tabs';
import { ErrorPanel } from '../common/ErrorPanel';
import { LoadCost } from './LoadCost';
import { LoadProgress } from './LoadProgress';

/** A model tab's model: its state in the worker, Load, progress with Cancel, or the error. */
export function ModelBar({ tab, onSettings }: { tab: ModelTab; onSettings: () => void }) {
  const { slots, chats } = useServices();
  const slot = useStore(slots.state)[tab.id];
  // The custom tab's repo can change under a failed load: that error was another repo's.
  const state = slot?.status === 'error' && slot.repo !== tab.repo ? undefined : slot;
  const load = () => chats.load(tab);
  const info = state?.status === 'ready' ? state.info : undefined;
  const formats = info?.dtype === 'q4' ? notQ4Count(info.tensorFormats) : undefined;

  return (
    <div className="space-y-2" data-testid={`model-bar-${tab.id}`}>
      <div className="flex flex-wrap items-center gap-2 text-sm">
        <a href={`${chats.target(tab).endpoint}/${tab.repo}`} target="_blank" rel="noopener noreferrer" className="font-mono text-xs text-zinc-500 hover:underline">
          {tab.repo}
        </a>
        {info ? (
          <span
            data-testid="model-status"
            data-from-cache={info.fromCache}
            data-offline={info.offline === true}
            data-cache-damaged={info.cacheDamaged !== undefined}
            className="chip bg-emerald-100 text-emerald-900 dark:bg-emerald-900/50 dark:text-emerald-100"
          >
            {info.fromCache
              ? info.offline
                ? '캐시에서 불러옴 · 오프라인: 캐시된 사본 사용 (offline: using the cached copy)'
                : '캐시에서 불러옴 (loaded from cache, no download)'
              : info.cacheDamaged
                ? '준비됨 · 손상된 캐시 대신 다시 받음 (ready: downloaded again, the cached copy was damaged)'
                : '준비됨 (ready)'}{' '}
            · {info.dtype}
            {formats && (
              <span data-testid="model-formats" data-not-q4={formats.notQ4} title="임베딩·lm_head는 f16으로 두고, 입력 폭이 32의 배수가 아닌 행렬도 f16으로 둡니다">
                {' '}(f16 텐서 {formats.notQ4}/{formats.total}개 · {formats.notQ4} of {formats.total} tensors not q4)
              </span>
            )}{' '}
            · {formatBytes(info.gpuBytes)} GPU · 컨텍스트 {info.contextLength}
            {info.loadMs > 0 && ` · ${(info.loadMs / 1000).toFixed(1)}초`}
          </span>
        ) : null}
        {info ? (
          <span
            data-testid="model-tokenizer"
            data-kind={info.tokenizer.kind}
            data-tokens-per-syllable={info.tokenizer.tokensPerSyllable.toFixed(2)}
            className="chip bg-zinc-100 text-zinc-700 dark:bg-zinc-800 dark:text-zinc-200"
            title="논문의 한국어 문장으로 잰 값: 음절당 토큰이 적을수록 같은 tok/s에서 한국어가 빨리 나옵니다 (tokens per Hangul syllable on the paper's Korean)"
          >
            한글 1음절당 {info.tokenizer.tokensPerSyllable.toFixed(2)} 토큰 ({info.tokenizer.kind === 'byte-level' ? 'byte-level BPE' : 'sentencepiece'}, {info.tokenizer.vocabSize.toLocaleString('en-US')} tokens)
            {info.tokenizer.chatTemplate ? ' · 저장소 chat template' : ' · Vicuna 형식'}
          </span>
        ) : state?.status !== 'loading' && state?.status !== 'error' ? (
          <button type="button" className="btn-primary" data-testid="load-model" onClick={load}>
            모델 불러오기 (Load)
          </button>
        ) : null}
      </div>
      {!info && state?.status !== 'loading' && state?.status !== 'error' && <LoadCost target={chats.target(tab)} />}
      {state?.status === 'empty' && state.unloadedBecause === 'evicted' && (
        <p className="notice">GPU 메모리가 부족해 다른 모델을 위해 내려졌습니다. 보내면 캐시에서 다시 불러옵니다. (Unloaded to make room; reloads from cache.)</p>
      )}
      {state?.status === 'empty' && state.unloadedBecause === 'device-lost' && (
        <p className="notice">GPU 장치가 초기화되어 모델이 내려졌습니다. 대화는 남아 있으며, 보내거나 불러오기를 누르면 캐시에서 다시 불러옵니다.</p>
      )}
      {info?.cacheDamaged && (
        <p className="notice" data-testid="cache-damaged">
          저장된 사본이 손상되어 모델을 다시 받았습니다 (the cached copy was damaged and was downloaded again): {info.cacheDamaged}.
        </p>
      )}
      {state?.templateNotice && (
        <p className="notice" data-testid="template-notice">
          이 모델의 chat template을 쓸 수 없어 기본 Vicuna 형식으로 대화합니다. ({state.templateNotice})
        </p>
      )}
      {info?.cacheError && (
        // Out of room: the steps (free space, delete cached models, persistent storage) are the help.
        <ErrorPanel error={info.cacheError} compact={info.cacheError.code !== 'quota-exceeded'} onSettings={onSettings} context={state?.asked} />
      )}
      {state?.status === 'loading' && <LoadProgress state={state} onCancel={() => slots.cancel(tab.id)} />}
      {state?.status === 'error' && state.error && <ErrorPanel error={state.error} context={state.asked} onRetry={load} onSettings={onSettings} onDismiss={() => slots.dismissError(tab.id)} />}
    </div>
  );
}
