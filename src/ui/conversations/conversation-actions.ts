/**
 * What the conversation list does, outside React: open one in its tab (through the tab's
 * controller, which stops an answer in progress and resets the worker's KV cache), delete with
 * Undo, export as Markdown or JSON, import a JSON export into the tab it belongs in.
 */
import { EngineError } from '../../errors';
import { chatKey, type ChatController } from '../chat/chat-controller';
import { compareKey, type CompareController } from '../compare/compare-controller';
import { parseConversationFile, toConversationFile } from './conversation-file';
import { toMarkdown } from './conversation-markdown';
import type { Tab } from '../common/tabs';
import type { Removed, Threads } from './threads';

export interface ExportedFile {
  name: string;
  text: string;
  type: string;
}

/** The key a tab's conversations are saved under. */
export function conversationKey(tab: Tab): string {
  return tab.kind === 'compare' ? compareKey(tab) : chatKey(tab);
}

/**
 * Where an import goes: the open tab when it is of the file's kind (chat or Compare), else the
 * tab the file names, else the first tab of its kind. Model tabs without a repo hold no chat.
 */
export function importTarget(file: { kind: 'chat' | 'compare'; tab: string }, open: Tab, tabs: Tab[]): Tab | undefined {
  const fits = (tab: Tab) => (file.kind === 'compare' ? tab.kind === 'compare' : tab.kind === 'model' && tab.repo !== '');
  if (fits(open)) return open;
  return tabs.find((tab) => fits(tab) && tab.id === file.tab) ?? tabs.find(fits);
}

/** `title-20250102-1345.md`: the title with what file systems refuse taken out. */
export function exportName(title: string, at: Date, extension: string): string {
  const safe = title.replace(/[\\/:*?"<>|\u0000-\u001f]+/g, ' ').trim().replace(/\s+/g, '-');
  const two = (n: number) => String(n).padStart(2, '0');
  const stamp = `${at.getFullYear()}${two(at.getMonth() + 1)}${two(at.getDate())}-${two(at.getHours())}${two(at.getMinutes())}`;
  return `${[...safe].slice(0, 60).join('') || 'conversation'}-${stamp}.${extension}`;
}

export class ConversationActions {
  constructor(
    private readonly threads: Threads,
    private readonly chats: ChatController,
    private readonly compare: CompareController,
  ) {}

  /** Shows conversation `id` in `tab` (a new one when undefined). */
  open(tab: Tab, id?: string): Promise<void> {
    return tab.kind === 'compare' ? this.compare.openConversation(tab, id) : this.chats.openConversation(tab, id);
  }

  /** Deletes `id`; the tab moves to a new chat when it was showing it. Returns what Undo needs. */
  async remove(tab: Tab, id: string): Promise<Removed | undefined> {
    const shown = this.threads.activeId(conversationKey(tab)) === id;
    if (shown) await this.open(tab);
    const removed = await this.threads.remove(id);
    return removed && { ...removed, shown };
  }

  /** The conversation `tab` shows, as a file; undefined while it is a new chat with nothing said. */
  exportFile(tab: Tab, format: 'markdown' | 'json', now = new Date()): ExportedFile | undefined {
    const id = this.threads.activeId(conversationKey(tab));
    const meta = id === undefined ? undefined : this.threads.meta(id);
    if (!meta) return undefined;
    const thread = this.threads.thread(conversationKey(tab));
    return format === 'json'
      ? { name: exportName(meta.title, now, 'json'), text: `${JSON.stringify(toConversationFile(meta, thread, tab.id, now), null, 2)}\n`, type: 'application/json' }
      : { name: exportName(meta.title, now, 'md'), text: toMarkdown(meta, thread, now), type: 'text/markdown' };
  }

  /**
   * Saves a JSON export as a new conversation and shows it; returns the tab it went to. A bad
   * file throws bad-input before anything is saved.
   */
  async importFile(json: string, open: Tab, tabs: Tab[]): Promise<Tab> {
    const imported = parseConversationFile(json);
    const target = importTarget(imported, open, tabs);
    // buildTabs always makes a Compare tab and model tabs with repos: this would be a bug.
    if (!target) throw new EngineError('internal', `No tab can hold a ${imported.kind} conversation`);
    const id = await this.threads.add(conversationKey(target), imported.thread, imported.about);
    await this.open(target, id);
    return target;
  }
}
