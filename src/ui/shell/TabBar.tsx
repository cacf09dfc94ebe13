import type { Tab } from '../common/tabs';

export function TabBar({ tabs, active, onSelect }: { tabs: Tab[]; active: number; onSelect: (index: number) => void }) {
  return (
    <nav role="tablist" className="flex gap-1 overflow-x-auto px-2 sm:px-4" aria-label="모델 탭">
      {tabs.map((tab, index) => (
        <button
          key={tab.id}
          type="button"
          role="tab"
          aria-selected={index === active}
          data-testid={`tab-${index}`}
          onClick={() => onSelect(index)}
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
