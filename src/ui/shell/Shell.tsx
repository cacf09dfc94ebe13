import { useEffect, useState } from 'react';
import { toErrorData, type ErrorData } from '../../errors';
import { useMediaQuery } from './useMediaQuery';
import { useServices } from './useServices';
import { useStore } from '../common/useStore';
import { buildTabs } from '../common/tabs';
import { ChatTab } from '../chat/ChatTab';
import { CompareTab } from '../compare/CompareTab';
import { ConversationPanel } from '../conversations/ConversationPanel';
import { CustomRepoForm } from '../models/CustomRepoForm';
import { ErrorPanel } from '../common/ErrorPanel';
import { ModelManager } from '../models/ModelManager';
import { SettingsPanel } from '../settings/SettingsPanel';
import { TAB_PANEL_ID, TabBar, tabButtonId } from './TabBar';

/** Header, tabs, the open tab, the panels, and the GPU-level errors (no WebGPU, device lost). */
export function Shell() {
  const { client, chats, settings, slots, url } = useServices();
  const { customRepo } = useStore(settings);
  const tabs = buildTabs(url.models, customRepo);
  const [active, setActive] = useState(0);
  const [panel, setPanel] = useState<'settings' | 'models' | null>(null);
  // The conversation list: a column beside the chat on a wide screen (open unless closed), a drawer on a phone.
  const wide = useMediaQuery('(min-width: 1024px)');
  const [listDocked, setListDocked] = useState(true);
  const [listDrawer, setListDrawer] = useState(false);
  const [gpuError, setGpuError] = useState<ErrorData | null>(null);
  const deviceLost = useStore(slots.deviceLost);
  const tab = tabs[active];

  useEffect(() => {
    // Opens the GPU in the worker now: a missing adapter is said before anyone downloads 4 GB.
    client.probe().catch((caught: unknown) => setGpuError(toErrorData(caught)));
  }, [client]);

  const openSettings = () => setPanel('settings');
  // After a lost device: the open tab's models come back from the browser cache.
  const reloadModels = () => {
    slots.deviceLost.set(undefined);
    const models = tab.kind === 'compare' ? tab.models : tab.repo ? [tab] : [];
    for (const model of models) chats.load(model);
  };
  return (
    <div className="flex min-h-0 flex-1 flex-col">
      <header className="border-b border-zinc-200 bg-white dark:border-zinc-800 dark:bg-zinc-900">
        <div className="flex items-center justify-between gap-2 px-3 pt-2 sm:px-4">
          <button
            type="button"
            className="btn-ghost shrink-0 px-2"
            data-testid="open-conversations"
            aria-expanded={wide ? listDocked : listDrawer}
            title="대화 목록 (conversations)"
            aria-label="대화 목록 (conversations)"
            onClick={() => (wide ? setListDocked(!listDocked) : setListDrawer(true))}
          >
            ☰ <span className="hidden sm:inline">대화 목록</span>
          </button>
          <h1 className="min-w-0 flex-1 truncate text-base font-bold sm:text-lg">
            한국어 Vicuna <span className="font-normal text-zinc-500">· WebGPU</span>
          </h1>
          <div className="flex shrink-0 gap-1">
            <button type="button" className="btn-ghost" data-testid="open-models" onClick={() => setPanel('models')}>
              모델 관리
            </button>
            <button type="button" className="btn-ghost" data-testid="open-settings" onClick={openSettings}>
              설정
            </button>
          </div>
        </div>
        <TabBar tabs={tabs} active={active} onSelect={setActive} />
      </header>

      {gpuError && (
        <div className="mx-auto w-full max-w-4xl p-3">
          <ErrorPanel error={gpuError} />
        </div>
      )}
      {deviceLost && (
        <div className="mx-auto w-full max-w-4xl p-3">
          <ErrorPanel error={{ code: 'device-lost', message: deviceLost }} onRetry={reloadModels} onDismiss={() => slots.deviceLost.set(undefined)} />
        </div>
      )}

      <main className="flex min-h-0 flex-1">
        {!gpuError && (wide ? listDocked : listDrawer) && (
          <ConversationPanel tab={tab} tabs={tabs} onShowTab={setActive} variant={wide ? 'docked' : 'drawer'} onClose={() => (wide ? setListDocked(false) : setListDrawer(false))} />
        )}
        <div className="flex min-h-0 min-w-0 flex-1 flex-col" role="tabpanel" id={TAB_PANEL_ID} aria-labelledby={tabButtonId(tab)}>
          {!gpuError && tab.kind === 'compare' && <CompareTab tab={tab} onSettings={openSettings} />}
          {!gpuError && tab.kind === 'model' && tab.custom && (
            <div className="mx-auto w-full max-w-4xl px-3 pt-3 sm:px-4">
              <CustomRepoForm key={tab.repo} repo={tab.repo} onOpen={(repo) => settings.update({ customRepo: repo })} />
            </div>
          )}
          {!gpuError && tab.kind === 'model' && tab.repo && <ChatTab key={tab.id + tab.repo} tab={tab} onSettings={openSettings} />}
          {!gpuError && tab.kind === 'model' && !tab.repo && <div className="flex-1" />}
        </div>
      </main>

      {panel === 'settings' && <SettingsPanel tab={tab} onClose={() => setPanel(null)} />}
      {panel === 'models' && <ModelManager onClose={() => setPanel(null)} />}
    </div>
  );
}
