import { KOREAN_VICUNA_SYSTEM_PROMPT } from '../../chat/template';
import { useServices } from '../shell/useServices';
import { useStore } from '../common/useStore';
import { CONTEXT_LENGTHS, DEFAULT_HUB } from './settings';
import type { Tab } from '../common/tabs';
import { AboutSection } from './AboutSection';
import { Drawer } from '../common/Drawer';
import { NumberField } from './NumberField';

/** Sampling and system prompt for the open tab; storage format, context and hub for all; about the app. */
export function SettingsPanel({ tab, onClose }: { tab: Tab; onClose: () => void }) {
  const { settings } = useServices();
  const all = useStore(settings);
  const repo = tab.kind === 'model' && tab.repo ? tab.repo : undefined;
  const current = settings.tab(tab.id, repo);
  const fromRepo = repo ? settings.fromRepo(tab.id, repo) : [];
  const set = (change: Parameters<typeof settings.updateTab>[1]) => settings.updateTab(tab.id, change);

  return (
    <Drawer title="설정 (Settings)" testId="settings" onClose={onClose}>
      <section className="space-y-3">
        <h3 className="section-title">“{tab.title}” 탭의 생성 설정</h3>
        <div className="grid grid-cols-2 gap-3">
          <NumberField label="Temperature" hint="0 = greedy" testId="setting-temperature" value={current.temperature} min={0} max={2} step={0.05} onChange={(temperature) => set({ temperature })} />
          <NumberField label="Top-k" hint="0 = 끔" testId="setting-top-k" value={current.topK} min={0} max={1000} step={1} integer onChange={(topK) => set({ topK })} />
          <NumberField label="Top-p" testId="setting-top-p" value={current.topP} min={0.01} max={1} step={0.01} onChange={(topP) => set({ topP })} />
          <NumberField label="반복 페널티" hint="repetition penalty" testId="setting-repetition-penalty" value={current.repetitionPenalty} min={1} max={2} step={0.01} onChange={(repetitionPenalty) => set({ repetitionPenalty })} />
          <NumberField label="최대 생성 토큰" hint="max new tokens" testId="setting-max-new-tokens" value={current.maxNewTokens} min={1} max={4096} step={1} integer onChange={(maxNewTokens) => set({ maxNewTokens })} />
          <NumberField label="시드 (seed)" testId="setting-seed" value={current.seed} min={0} max={4294967295} step={1} integer onChange={(seed) => set({ seed })} />
        </div>
        {fromRepo.length > 0 && (
          <p className="text-xs text-zinc-500" data-testid="settings-repo-defaults" data-keys={fromRepo.join(',')}>
            {fromRepo.join(', ')}: 모델의 generation_config.json 기본값 (the model's own defaults, until you change them)
          </p>
        )}
        <label className="block text-sm">
          <span className="font-medium">시스템 프롬프트 (system prompt)</span>
          <textarea data-testid="setting-system-prompt" className="input mt-1 min-h-24 w-full" value={current.systemPrompt} onChange={(event) => set({ systemPrompt: event.target.value })} />
          <span className="text-xs text-zinc-500">저장소에 자체 chat_template이 있으면 그 형식을 따릅니다. 기본값은 Korean-Vicuna 논문의 프롬프트입니다.</span>
        </label>
        <div className="flex gap-2">
          <button type="button" className="btn-ghost" onClick={() => set({ systemPrompt: KOREAN_VICUNA_SYSTEM_PROMPT })}>
            논문 프롬프트로
          </button>
          <button type="button" className="btn-ghost" onClick={() => settings.resetTab(tab.id)}>
            이 탭 기본값으로
          </button>
        </div>
      </section>

      <section className="space-y-3">
        <h3 className="section-title">모델 (모든 탭) — 바꾸면 다음 불러오기부터 적용</h3>
        <div className="grid grid-cols-2 gap-3">
          <label className="block text-sm">
            <span className="font-medium">저장 형식 (dtype)</span>
            <select data-testid="setting-dtype" className="input mt-1 w-full" value={all.dtype} onChange={(event) => settings.update({ dtype: event.target.value as 'q4' | 'f16' })}>
              <option value="q4">q4 — 7B ≈ 4 GB (기본)</option>
              <option value="f16">f16 — 7B ≈ 13 GB</option>
            </select>
          </label>
          <label className="block text-sm">
            <span className="font-medium">컨텍스트 길이</span>
            <select data-testid="setting-context-length" className="input mt-1 w-full" value={all.contextLength} onChange={(event) => settings.update({ contextLength: Number(event.target.value) })}>
              {CONTEXT_LENGTHS.map((length) => (
                <option key={length} value={length}>
                  {length} 토큰
                </option>
              ))}
            </select>
          </label>
        </div>
        <label className="block text-sm">
          <span className="font-medium">허브 주소 (hub endpoint)</span>
          <input
            data-testid="setting-hub"
            className="input mt-1 w-full font-mono"
            value={settings.hubIsOverridden() ? settings.hub() : all.hubEndpoint}
            disabled={settings.hubIsOverridden()}
            placeholder={DEFAULT_HUB}
            onChange={(event) => settings.update({ hubEndpoint: event.target.value.trim().replace(/\/+$/, '') || DEFAULT_HUB })}
          />
          {settings.hubIsOverridden() && (
            <span className="text-xs text-zinc-500" data-testid="hub-override-note">
              페이지 주소의 hub= 값을 사용 중입니다.{' '}
              {all.hubEndpoint === settings.hub() ? '저장된 허브와 같아 토큰을 보냅니다.' : '저장된 액세스 토큰은 이 주소로 보내지 않습니다.'}
            </span>
          )}
          {settings.hubIsOverridden() && all.hubEndpoint !== settings.hub() && (
            <button type="button" className="btn-ghost mt-1" data-testid="trust-hub" onClick={() => settings.update({ hubEndpoint: settings.hub() })}>
              이 허브를 저장하고 토큰 보내기 (trust this hub)
            </button>
          )}
        </label>
        <label className="block text-sm">
          <span className="font-medium">액세스 토큰 (access token)</span>
          <input
            data-testid="setting-token"
            type="password"
            autoComplete="off"
            className="input mt-1 w-full font-mono"
            value={all.token}
            placeholder="hf_… (gated/private repo)"
            onChange={(event) => settings.update({ token: event.target.value.trim() })}
          />
          <span className="text-xs text-zinc-500">이 브라우저(IndexedDB)에만 저장되고 허브로만 전송됩니다.</span>
        </label>
      </section>

      <AboutSection />
    </Drawer>
  );
}
