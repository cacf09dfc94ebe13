import { PRESETS } from './presets';

/** The paper's three questions, one click to ask. */
export function Presets({ onAsk, disabled }: { onAsk: (prompt: string) => void; disabled: boolean }) {
  return (
    <div className="space-y-2">
      <p className="text-sm text-zinc-500">논문의 예시 질문 (examples from the Korean-Vicuna paper):</p>
      <div className="grid gap-2 sm:grid-cols-3">
        {PRESETS.map((preset, index) => (
          <button
            key={preset.label}
            type="button"
            disabled={disabled}
            data-testid={`preset-${index}`}
            onClick={() => onAsk(preset.prompt)}
            className="rounded-xl border border-zinc-200 bg-white p-3 text-left text-sm shadow-sm transition hover:border-sky-400 disabled:opacity-50 dark:border-zinc-800 dark:bg-zinc-900"
          >
            <span className="block font-semibold">{preset.label}</span>
            <span className="mt-1 block text-zinc-500 dark:text-zinc-400">{preset.prompt}</span>
          </button>
        ))}
      </div>
    </div>
  );
}
