import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_SCRIPTS } from '../src/model/scripted-model';
import { toConversationFile } from '../src/ui/conversations/conversation-file';
import { chatKey } from '../src/ui/chat/chat-controller';
import { bodyKey, describe as describeThread, INDEX_KEY } from '../src/ui/conversations/conversation-store';
import { buildTabs, type ModelTab } from '../src/ui/common/tabs';
import type { Thread } from '../src/ui/conversations/threads';
import { ARTIFACTS, expect, REPOS, test, type App } from './fixtures';

const [, CODE, KOREAN] = DEFAULT_SCRIPTS;
// The scripted model answers by a prompt's last token: this one gets KOREAN's answer.
const SILLA = `통일신라의 문화를 알려 주세요. ${KOREAN.prompt}`;
const CHAT_KEY = chatKey(buildTabs([REPOS.scripted], '')[0] as ModelTab);

async function chatAndWait(app: App, text: string, index: number): Promise<void> {
  await app.send(text);
  await app.answer(index);
}

test('New chat keeps the old conversation; the list survives a reload, opens, searches Korean, renames, deletes with undo', async ({ app, page }) => {
  await app.open([REPOS.scripted]);
  await app.load();
  const items = page.getByTestId('conversation-list').getByTestId('conversation-item');
  await chatAndWait(app, SILLA, 0);
  await expect(page.getByTestId('char-rate')).toContainText(/초당 [\d.]+자 \(chars\/s\)/);
  await page.getByTestId('new-chat').click();
  await expect(page.getByTestId('message-user')).toHaveCount(0);
  await expect(items).toHaveCount(1);
  await chatAndWait(app, CODE.prompt, 0);
  await expect(items).toHaveCount(2);
  await expect(items.first()).toHaveAttribute('data-active', 'true');

  await page.reload();
  await expect(items).toHaveCount(2);
  await expect(items.getByTestId('conversation-title')).toHaveText([CODE.prompt, SILLA]);
  await expect(page.getByTestId('message-user')).toHaveText(CODE.prompt);
  await items.nth(1).getByTestId('conversation-open').click();
  await expect(page.getByTestId('message-user')).toHaveText(SILLA);
  await expect(page.getByTestId('message-assistant')).toHaveAttribute('data-raw', KOREAN.answer);
  await expect(items.nth(1)).toHaveAttribute('data-active', 'true');

  const search = page.getByTestId('conversation-search');
  await search.fill('신라');
  await expect(items).toHaveCount(1);
  await expect(items.getByTestId('conversation-title')).toHaveText(SILLA);
  await search.fill('fibonacci'); // in the answer only, any case
  await expect(items.getByTestId('conversation-title')).toHaveText(CODE.prompt);
  await expect(items.getByTestId('conversation-snippet')).toContainText('fibonacci');
  await search.fill('백제');
  await expect(items).toHaveCount(0);
  await expect(page.getByTestId('conversation-empty')).toBeVisible();
  await search.fill('');

  await items.nth(1).getByTestId('rename-conversation').click();
  await page.getByTestId('rename-input').fill('신라 이야기');
  await page.getByTestId('rename-input').press('Enter');
  await expect(items.nth(1).getByTestId('conversation-title')).toHaveText('신라 이야기');
  await items.first().getByTestId('delete-conversation').click();
  await expect(items).toHaveCount(1);
  await page.getByTestId('undo-delete').click();
  await expect(items).toHaveCount(2);
  await app.screenshot('conversations');

  await page.reload();
  await expect(items.getByTestId('conversation-title')).toHaveText([CODE.prompt, '신라 이야기']);
  await page.setViewportSize({ width: 375, height: 740 });
  await expect(page.getByTestId('conversation-panel')).toBeHidden();
  await page.getByTestId('open-conversations').click();
  await expect(items).toHaveCount(2);
  await app.screenshot('phone-conversations');
  await items.nth(1).getByTestId('conversation-open').click();
  await expect(page.getByTestId('conversation-panel')).toBeHidden();
  await expect(page.getByTestId('message-user')).toHaveText(SILLA);
});

test('export as JSON imports back as the same conversation; Markdown reads; a foreign file is refused; a Compare file opens in Compare', async ({ app, page }) => {
  await app.open([REPOS.scripted]);
  await app.load();
  await chatAndWait(app, KOREAN.prompt, 0);
  await chatAndWait(app, CODE.prompt, 1);
  const items = page.getByTestId('conversation-item');
  const saveAs = async (testId: string) => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()]);
    return { name: download.suggestedFilename(), text: await readFile((await download.path())!, 'utf8') };
  };
  const json = await saveAs('export-json');
  expect(json.name).toMatch(/^say-hello-\d{8}-\d{4}\.json$/);
  const exported = JSON.parse(json.text);
  expect(exported).toMatchObject({ format: 'korean-vicuna-conversation', version: 1, kind: 'chat', tab: 'vicuna', title: KOREAN.prompt, models: [REPOS.scripted] });
  expect(exported.messages.map((m: { content: string }) => m.content)).toEqual([KOREAN.prompt, KOREAN.answer, CODE.prompt, CODE.answer]);
  const markdown = await saveAs('export-markdown');
  expect(markdown.text).toContain(`# ${KOREAN.prompt}`);
  expect(markdown.text).toContain(`- 모델 (model): \`${REPOS.scripted}\``);
  expect(markdown.text).toContain(`## 질문 2 (USER)\n\n${CODE.prompt}\n\n### 답변 (ASSISTANT · scripted)\n\n${CODE.answer}`);

  const importFile = (name: string, text: string) => page.getByTestId('import-json').setInputFiles({ name, mimeType: 'application/json', buffer: Buffer.from(text) });
  await importFile('chatgpt.json', JSON.stringify({ title: 'other app', mapping: {} }));
  await expect(page.getByTestId('import-error')).toContainText('이 앱의 대화 파일이 아닙니다');
  await importFile('broken.json', json.text.slice(0, 200));
  await expect(page.getByTestId('import-error')).toContainText('JSON 파일이 아닙니다');
  await expect(items).toHaveCount(1);

  await importFile(json.name, json.text);
  await expect(items).toHaveCount(2);
  await expect(page.getByTestId('import-error')).toHaveCount(0);
  await expect(page.getByTestId('message-user')).toHaveText([KOREAN.prompt, CODE.prompt]);
  await expect(page.getByTestId('message-assistant').nth(0)).toHaveAttribute('data-raw', KOREAN.answer);
  await expect(page.getByTestId('message-assistant').nth(1)).toHaveAttribute('data-raw', CODE.answer);
  // Exported again, it is the same record apart from ids and the export time.
  const again = JSON.parse((await saveAs('export-json')).text);
  const strip = (file: Record<string, unknown>) => JSON.parse(JSON.stringify({ ...file, exportedAt: undefined }, (key, value) => (key === 'id' ? undefined : value)));
  expect(strip(again)).toEqual(strip(exported));

  // A Compare session, imported from a chat tab, opens in Compare with both answers.
  const turn = { id: 't', prompt: '피보나치?', answers: [{ id: 'l', role: 'assistant', content: '왼쪽 답', state: 'done', repo: REPOS.random }, { id: 'r', role: 'assistant', content: '오른쪽 답', state: 'done', repo: REPOS.randomB }] } as const;
  const compare: Thread = { messages: [], turns: [{ ...turn, answers: [...turn.answers] }] };
  const file = toConversationFile({ id: 'x', tabKey: 'x', ...describeThread(compare), createdAt: Date.now(), updatedAt: Date.now() }, compare, 'compare', new Date());
  await importFile('compare.json', JSON.stringify(file));
  await expect(page.getByTestId('tab-2')).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('compare-turn')).toHaveCount(1);
  await expect(page.getByTestId('compare-answer-1').getByTestId('message-assistant')).toHaveAttribute('data-raw', '오른쪽 답');
  await expect(items).toHaveCount(1);
  const compareMarkdown = await saveAs('export-markdown');
  expect(compareMarkdown.text).toContain('### 답변 (ASSISTANT · tiny-random)\n\n왼쪽 답\n\n### 답변 (ASSISTANT · tiny-random-b)\n\n오른쪽 답');
});

/**
 * 500 saved conversations (8 messages each, ~1.7 MB): the list opens and searches their messages.
 * The times (click to painted list, the longest main-thread task) are measured, written to
 * e2e/artifacts/conversations-500.json and reported, never asserted.
 */
test('500 saved conversations: the list opens and searches them all (times measured, not asserted)', async ({ app, page }) => {
  const COUNT = 500;
  const topic = (i: number) => (i % 10 === 0 ? '통일신라의 9주 5소경' : i % 10 === 5 ? '하와이 3일 여행 예산' : '파이썬 피보나치 함수');
  const start = Date.now() - COUNT * 60_000;
  const conversations = Array.from({ length: COUNT }, (_, i) => {
    const messages = Array.from({ length: 4 }, (_, t) => [
      { id: `s${i}-q${t}`, role: 'user' as const, content: `${i}번 대화의 ${t + 1}번째 질문입니다. 자세히 설명해 주세요.` },
      { id: `s${i}-a${t}`, role: 'assistant' as const, content: `${topic(i)}에 대해 설명드리겠습니다. `.repeat(14), state: 'done' as const, repo: REPOS.scripted },
    ]).flat();
    const thread: Thread = { messages, turns: [] };
    return { meta: { id: `s${i}`, tabKey: CHAT_KEY, ...describeThread(thread), title: `${i}번 대화`, createdAt: start + i * 60_000, updatedAt: start + i * 60_000 }, thread };
  });
  await page.addInitScript(() => {
    // When the 500th row appears after a page load, measured from navigation start.
    new MutationObserver((_, observer) => {
      if (document.querySelectorAll('[data-testid="conversation-item"]').length < 500) return;
      (window as unknown as { listShownAt: number }).listShownAt = performance.now();
      observer.disconnect();
    }).observe(document, { subtree: true, childList: true });
  });
  await app.open([REPOS.scripted]);
  await page.evaluate(
    async ({ bodies, index, indexKey }) => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const request = indexedDB.open('keyval-store'); // idb-keyval's default database
        request.onupgradeneeded = () => request.result.createObjectStore('keyval');
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      const transaction = db.transaction('keyval', 'readwrite');
      const store = transaction.objectStore('keyval');
      for (const [key, thread] of bodies) store.put(thread, key);
      store.put(index, indexKey);
      await new Promise((resolve, reject) => {
        transaction.oncomplete = resolve;
        transaction.onerror = () => reject(transaction.error);
      });
      db.close();
    },
    {
      bodies: conversations.map(({ meta, thread }) => [bodyKey(meta.id), thread] as [string, Thread]),
      index: { version: 2, conversations: conversations.map(({ meta }) => meta), active: {} },
      indexKey: INDEX_KEY,
    },
  );
  await page.reload();
  const items = page.getByTestId('conversation-item');
  await expect(items).toHaveCount(COUNT);
  await expect(items.first().getByTestId('conversation-title')).toHaveText(`${COUNT - 1}번 대화`);

  const timings = await page.evaluate(async (counts) => {
    const longTasks = new PerformanceObserver(() => undefined);
    longTasks.observe({ type: 'longtask' });
    const rows = () => document.querySelectorAll('[data-testid="conversation-item"]').length;
    const listed = () => document.querySelector('[data-testid="conversation-list"]')?.getAttribute('data-count');
    const until = (done: () => boolean) =>
      new Promise<void>((resolve) => {
        if (done()) return resolve();
        const observer = new MutationObserver(() => done() && (observer.disconnect(), resolve()));
        observer.observe(document.body, { subtree: true, childList: true, attributes: true });
      });
    const painted = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
    const time = async (action: () => void, done: () => boolean) => {
      longTasks.takeRecords();
      const started = performance.now();
      action();
      await until(done);
      await painted();
      const ms = performance.now() - started;
      return { ms: Math.round(ms), longestTaskMs: Math.round(Math.max(0, ...longTasks.takeRecords().map((entry) => entry.duration))) };
    };
    const toggle = document.querySelector<HTMLButtonElement>('[data-testid="open-conversations"]')!;
    toggle.click();
    await until(() => rows() === 0);
    const open = await time(() => toggle.click(), () => rows() === counts.all);
    const search = document.querySelector<HTMLInputElement>('[data-testid="conversation-search"]')!;
    const type = (value: string) => {
      Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(search, value);
      search.dispatchEvent(new Event('input', { bubbles: true }));
    };
    const firstSearch = await time(() => type('신라'), () => listed() === String(counts.silla));
    const nextSearch = await time(() => type('하와이 예산'), () => listed() === String(counts.hawaii));
    const cleared = await time(() => type(''), () => listed() === String(counts.all));
    return { pageLoadToList: Math.round((window as unknown as { listShownAt: number }).listShownAt), open, firstSearch, nextSearch, cleared };
  }, { all: COUNT, silla: COUNT / 10, hawaii: COUNT / 10 });

  await page.getByTestId('conversation-search').fill('5소경');
  await expect(items).toHaveCount(COUNT / 10);
  await items.nth(3).getByTestId('conversation-open').click();
  await expect(page.getByTestId('message-user')).toHaveCount(4);
  await expect(page.getByTestId('message-user').first()).toHaveText('460번 대화의 1번째 질문입니다. 자세히 설명해 주세요.');

  const report = { conversations: COUNT, messagesEach: 8, bytes: JSON.stringify(conversations).length, ...timings, at: new Date().toISOString() };
  await mkdir(ARTIFACTS, { recursive: true });
  await writeFile(path.join(ARTIFACTS, 'conversations-500.json'), `${JSON.stringify(report, null, 2)}\n`);
  test.info().annotations.push({ type: 'conversations-500', description: JSON.stringify(timings) });
  console.log('500 conversations:', JSON.stringify(timings));
});
