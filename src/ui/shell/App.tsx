import { useEffect, useState } from 'react';
import { toErrorData, type ErrorData } from '../../errors';
import { ErrorPanel } from '../common/ErrorPanel';
import { LiveAnnouncer } from './LiveAnnouncer';
import { Shell } from './Shell';
import { UpdatePrompt } from './UpdatePrompt';
import { ServicesContext, startServices, type Services } from './services';

/** Starts the engine worker and the stores, or says why WebGPU cannot run here. */
export function App() {
  const [services, setServices] = useState<Services | null>(null);
  const [error, setError] = useState<ErrorData | null>(null);
  useEffect(() => {
    if (!('gpu' in navigator)) {
      setError({ code: 'webgpu-unavailable', message: `This browser has no WebGPU (navigator.gpu is missing)${isSecureContext ? '' : ' — the page is not a secure context (https or localhost)'}.` });
      return;
    }
    startServices().then(setServices, (caught: unknown) => setError(toErrorData(caught)));
  }, []);

  return (
    // A column the height of the screen: the update bar, when there is one, above the app.
    <div className="flex h-dvh flex-col">
      <UpdatePrompt />
      {error ? (
        <main className="mx-auto max-w-2xl p-4 pt-12">
          <h1 className="mb-4 text-xl font-bold">Korean-Vicuna WebGPU</h1>
          <ErrorPanel error={error} />
        </main>
      ) : !services ? (
        <main className="p-8 text-zinc-500">불러오는 중… (starting)</main>
      ) : (
        <ServicesContext.Provider value={services}>
          <Shell />
        </ServicesContext.Provider>
      )}
      <LiveAnnouncer />
    </div>
  );
}
