import { useRef, type KeyboardEvent } from 'react';
import type { Tab } from '../common/tabs';

/** The id of the region a tab shows (Shell's tab panel), for aria-controls and aria-labelledby. */
export const TAB_PANEL_ID = 'tab-panel';
export const tabButtonId = (tab: Tab) => `tab-button-${tab.id}`;

/**
 * The model tabs, as the WAI-ARIA tabs pattern has them: one Tab stop (the open tab), arrow keys,
 * Home and End move between tabs and open the one they reach.
 */
export function TabBar({ tabs, active, onSelect }: { tabs: Tab[]; active: number; onSelect: (index: number) => void }) {
  const buttons = useRef<(HTMLButtonElement | null)[]>([]);
  const onKeyDown = (event: KeyboardEvent<HTMLButtonElement>, index: number) => {
    const last = tabs.length - 1;
    const next = { ArrowRight: index === last ? 0 : index + 1, ArrowLeft: index === 0 ? last : index - 1, Home: 0, End: last }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    onSelect(next);
    buttons.current[next]?.focus();
  };
  return (
    <nav role="tablist" className="flex gap-1 overflow-x-auto px-2 sm:px-4" aria-label="모델 탭">
      {tabs.map((tab, index) => (
        <button
          key={tab.id}
          ref={(button) => {
            buttons.current[index] = button;
          }}
          type="button"
          role="tab"
          id={tabButtonId(tab)}
          aria-selected={index === active}
          aria-controls={TAB_PANEL_ID}
          tabIndex={index === active ? 0 : -1}
          data-testid={`tab-${index}`}
          onClick={() => onSelect(index)}
          onKeyDown={(event) => onKeyDown(event, index)}
          className={`shrink-0 whitespace-nowrap border-b-2 px-3 py-2 text-sm font-medium transition ${
            index === active ? 'border-sky-600 text-sky-700 dark:border-sky-400 dark:text-sky-300' : 'border-transparent text-zinc-500 hover:text-zinc-800 dark:hover:text-zinc-200'
          }`}
        >
          {tab.title}
        </button>
      ))}
    </nav>
  );
}
