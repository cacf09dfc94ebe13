import { appShell, type ShellState } from '../shell/app-shell';
import { useStore } from '../common/useStore';

const OFFLINE: Record<ShellState['offline'], string> = {
  off: '개발 서버에서는 꺼져 있습니다 (off in development).',
  unsupported: '이 브라우저는 서비스 워커가 없어 오프라인으로 열 수 없습니다 (no service worker).',
  installing: '오프라인용으로 앱을 저장하는 중… (caching the app)',
  ready: '인터넷 없이도 열립니다. 한 번 불러온 모델은 브라우저 캐시에서 불러옵니다 (works offline).',
  failed: '오프라인용 저장에 실패했습니다 (offline unavailable)',
};

/** Whether the app opens offline, and the licenses: the app's code, its libraries, the models. */
export function AboutSection() {
  const shell = useStore(appShell.state);
  return (
    <section className="space-y-2 text-sm" data-testid="about">
      <h3 className="section-title">이 앱에 대하여 (About)</h3>
      <p data-testid="offline-status" data-state={shell.offline}>
        오프라인: {OFFLINE[shell.offline]}
        {shell.error && ` — ${shell.error}`}
      </p>
      <p>
        코드는{' '}
        <a className="text-sky-700 underline dark:text-sky-400" href="LICENSE.txt" target="_blank" data-testid="license-link">
          MIT 라이선스
        </a>
        입니다. 포함된 라이브러리:{' '}
        <a className="text-sky-700 underline dark:text-sky-400" href="third-party-licenses.txt" target="_blank">
          third-party licenses
        </a>
        .
      </p>
      <p className="text-zinc-600 dark:text-zinc-400">
        모델 가중치는 각 모델의 라이선스를 따릅니다. LLaMA-1과 그 미세조정 모델(Korean-Vicuna 포함)은 비상업적 연구용 라이선스입니다
        (model weights come under their own licenses; LLaMA-1 and its fine-tunes: non-commercial research only).
      </p>
    </section>
  );
}
