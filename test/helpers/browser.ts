/// <reference lib="dom" />
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';

/** Debian's chromium; browser tests never download one. */
export const CHROMIUM = process.env.PORTHOLE_CHROMIUM ?? '/usr/bin/chromium';

const LAUNCH_ARGS = [
  '--no-sandbox', // the tests run as root
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Whether a test file may drive a real browser. Under CI a missing chromium is a
 * failure, never a skip; locally the file is skipped with a loud message.
 */
export function requireBrowser(): boolean {
  if (existsSync(CHROMIUM)) return true;
  const message = `chromium is not installed at ${CHROMIUM}`;
  if (process.env.CI === 'true') throw new Error(`${message}; CI requires it (see .ci/run)`);
  console.warn(`\n!!! SKIPPING browser tests: ${message} !!!\n`);
  return false;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS, timeout: 30_000 });
}

/** What went wrong in a page that no assertion on its content would notice. */
export interface PageProblems {
  /** console.error messages (failed loads, CSP refusals logged by the browser …). */
  consoleErrors: string[];
  /** Uncaught exceptions in the page's scripts. */
  pageErrors: string[];
  /** Content Security Policy refusals, from the console and from `securitypolicyviolation` events. */
  cspViolations: string[];
  /** Responses with a 4xx or 5xx status, as "404 GET /path" (the console only says "Failed to load resource"). */
  httpErrors: string[];
}

export interface OpenPage {
  context: BrowserContext;
  page: Page;
  problems: PageProblems;
  /** CSP violations the page itself reported (needs JavaScript), merged into `problems`. */
  collect(): Promise<PageProblems>;
  close(): Promise<void>;
}

export interface OpenPageOptions {
  width?: number;
  height?: number;
  colorScheme?: 'light' | 'dark';
  javaScriptEnabled?: boolean;
  /** Extra context options (baseURL, extraHTTPHeaders …). */
  context?: BrowserContextOptions;
}

declare global {
  interface Window {
    __cspViolations?: string[];
  }
}

/**
 * A fresh context and page at a viewport and colour scheme, recording console errors,
 * page errors and CSP violations. Each page gets its own context, so no cookie, cache or
 * storage leaks from one test into the next.
 */
export async function openPage(browser: Browser, options: OpenPageOptions = {}): Promise<OpenPage> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
    colorScheme: options.colorScheme ?? 'light',
    javaScriptEnabled: options.javaScriptEnabled ?? true,
    reducedMotion: 'reduce',
    ...options.context,
  });
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(20_000);
  // Injected by the browser itself, so the page's CSP does not apply to this script.
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (event) => {
      window.__cspViolations?.push(`${event.violatedDirective} blocked ${event.blockedURI || 'inline'} (${event.sourceFile}:${event.lineNumber})`);
    });
  });
  const page = await context.newPage();
  const problems: PageProblems = { consoleErrors: [], pageErrors: [], cspViolations: [], httpErrors: [] };
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    const where = message.location().url;
    problems.consoleErrors.push(where ? `${text} (${new URL(where).pathname})` : text);
    if (/Content Security Policy/i.test(text)) problems.cspViolations.push(text);
  });
  page.on('pageerror', (error) => problems.pageErrors.push(error.message));
  page.on('response', (response) => {
    if (response.status() >= 400) problems.httpErrors.push(`${response.status()} ${response.request().method()} ${new URL(response.url()).pathname}`);
  });
  return {
    context,
    page,
    problems,
    async collect() {
      if (options.javaScriptEnabled !== false && !page.isClosed()) {
        const seen = await page.evaluate(() => window.__cspViolations ?? []).catch(() => [] as string[]);
        for (const violation of seen) if (!problems.cspViolations.includes(violation)) problems.cspViolations.push(violation);
      }
      return problems;
    },
    close: () => context.close(),
  };
}
