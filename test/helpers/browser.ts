// Debian's Chromium (/usr/bin/chromium), headless, driven by playwright-core: never a downloaded browser.
// A fresh profile per launch; every console error, uncaught page error and Content-Security-Policy
// violation is recorded, and a test asserts that none happened beyond the API answers it provoked.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

export interface PageProblem {
  kind: 'console' | 'pageerror' | 'csp';
  text: string;
  /** The resource a console message is about (a failed request's URL), when Chromium says. */
  url?: string;
}

export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** What went wrong in the page since the last call, and forget it. */
  takeProblems(): PageProblem[];
  /**
   * Fails when the page logged an error, threw, or violated the CSP. `expectedStatuses` are API answers
   * the test provoked on purpose (Chromium logs every failed request, a 401 included, as a console error).
   */
  assertNoProblems(expectedStatuses?: number[]): void;
  close(): Promise<void>;
}

/** Reports a CSP violation from the page to the test (installed before any page script runs). */
declare global {
  interface Window {
    __bnCspViolation?: (text: string) => void;
  }
}

function apiStatusOf(message: PageProblem): number | undefined {
  const m = /the server responded with a status of (\d{3})/.exec(message.text);
  return m && message.url && new URL(message.url).pathname.startsWith('/v1/') ? Number(m[1]) : undefined;
}

export async function launchBrowser(options: { width?: number; height?: number } = {}): Promise<TestBrowser> {
  const profile = await fs.mkdtemp(path.join(os.tmpdir(), 'bn-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
    });
  } catch (err) {
    await fs.rm(profile, { recursive: true, force: true });
    throw new Error(`could not start ${CHROMIUM} (Debian: apt-get install -y chromium): ${(err as Error).message}`);
  }
  let problems: PageProblem[] = [];
  await context.exposeBinding('__bnCspViolation', (_source, text: string) => void problems.push({ kind: 'csp', text }));
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__bnCspViolation?.(`${e.violatedDirective} blocked ${e.blockedURI || 'inline code'} (${e.sourceFile}:${e.lineNumber})`);
    });
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (msg: ConsoleMessage) => {
    if (msg.type() === 'error') problems.push({ kind: 'console', text: msg.text(), url: msg.location().url || undefined });
  });
  page.on('pageerror', (err) => problems.push({ kind: 'pageerror', text: err.stack ?? err.message }));

  const takeProblems = () => {
    const out = problems;
    problems = [];
    return out;
  };
  const browser: TestBrowser = {
    context,
    page,
    takeProblems,
    assertNoProblems(expectedStatuses = []) {
      const found = takeProblems().filter((p) => {
        const status = apiStatusOf(p);
        return status === undefined || !expectedStatuses.includes(status);
      });
      if (found.length > 0) throw new Error(`the page reported problems:\n${found.map((p) => `${p.kind}: ${p.text}${p.url ? ` (${p.url})` : ''}`).join('\n')}`);
    },
    async close() {
      await context.close().catch(() => undefined);
      await fs.rm(profile, { recursive: true, force: true });
    },
  };
  return browser;
}

const SCREENSHOTS = process.env.UI_SCREENSHOTS === '1' ? path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'docs', 'screenshots') : undefined;

/** With UI_SCREENSHOTS=1, the page as docs/screenshots/<name>.png (the README shows them). */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (!SCREENSHOTS) return;
  await fs.mkdir(SCREENSHOTS, { recursive: true });
  // Animations and the caret would make every run's file different.
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true, animations: 'disabled', caret: 'hide' });
}

/** Every form control has a label (or an accessible name), and every button says what it does. */
export async function assertLabelled(page: Page): Promise<void> {
  const unlabelled = await page.evaluate(() => {
    const out: string[] = [];
    for (const el of document.querySelectorAll<HTMLElement>('input, select, textarea, button, progress')) {
      if ((el as HTMLInputElement).type === 'hidden' || el.closest('dialog:not([open])')) continue;
      const labels = (el as HTMLInputElement).labels;
      const named = (labels && labels.length > 0) || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || (el.tagName === 'BUTTON' && el.textContent?.trim());
      if (!named) out.push(el.outerHTML.slice(0, 120));
    }
    return out;
  });
  assert.deepEqual(unlabelled, [], `controls without a label on ${page.url()}`);
}

/** No horizontal scrolling of the page itself (wide tables scroll inside their own box). */
export async function assertFitsWidth(page: Page): Promise<void> {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  assert.ok(scroll <= width, `${page.url()} is ${scroll} px wide in a ${width} px window`);
}
