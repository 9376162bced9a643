/**
 * Launches Debian's Chromium with the built extension (dist/) on a profile directory
 * and talks to the kernel the way the panel does: chrome.runtime messages from an
 * extension page to the control surface.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page, type Worker } from '@playwright/test';

export const DIST = fileURLToPath(new URL('../dist', import.meta.url));
export const CHROMIUM = process.env.CHROME_PATH ?? '/usr/bin/chromium';

export interface SurfaceAnswer<R = unknown> {
  ok: boolean;
  result?: R;
  error?: { name: string; message: string };
}

export class Cask {
  readonly profile: string;
  context!: BrowserContext;
  worker!: Worker;
  page!: Page;
  extensionId!: string;

  constructor(profile: string) {
    this.profile = profile;
  }

  /** A fresh profile directory, removed by `dispose()`. */
  static async launch(): Promise<Cask> {
    const cask = new Cask(mkdtempSync(join(tmpdir(), 'cask-e2e-')));
    await cask.open();
    return cask;
  }

  /** Starts the browser on this profile (again, after `close()`). */
  async open(): Promise<void> {
    this.context = await chromium.launchPersistentContext(this.profile, {
      headless: true,
      executablePath: CHROMIUM,
      args: [
        `--disable-extensions-except=${DIST}`,
        `--load-extension=${DIST}`,
        '--disable-gpu',
        '--disable-sync',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        ...(process.env.CASK_CHROME_LOG ? ['--enable-logging=stderr', '--v=0'] : []),
      ],
    });
    this.worker =
      this.context.serviceWorkers()[0] ?? (await this.context.waitForEvent('serviceworker'));
    this.extensionId = new URL(this.worker.url()).host;
    this.page = await this.context.newPage();
    await this.page.goto(this.url('panel.html'));
  }

  url(path: string): string {
    return `chrome-extension://${this.extensionId}/${path}`;
  }

  /** One surface request, answered as it is (refusals included). */
  async request<R = unknown>(method: string, params: unknown = {}): Promise<SurfaceAnswer<R>> {
    return this.page.evaluate(
      ([m, p]) => chrome.runtime.sendMessage({ type: 'cask:request', method: m, params: p }),
      [method, params] as const,
    ) as Promise<SurfaceAnswer<R>>;
  }

  /** One surface request that must succeed. */
  async ask<R = unknown>(method: string, params: unknown = {}): Promise<R> {
    const answer = await this.request<R>(method, params);
    if (!answer.ok) {
      throw new Error(`${method} refused: ${answer.error?.name}: ${answer.error?.message}`);
    }
    return answer.result as R;
  }

  /** Stops every service worker of the browser, as Chrome does to an idle one. */
  async stopServiceWorker(): Promise<void> {
    const cdp = await this.context.newCDPSession(this.page);
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.stopAllWorkers');
    await cdp.detach();
  }

  async close(): Promise<void> {
    await this.context.close();
  }

  async dispose(): Promise<void> {
    await this.context.close().catch(() => undefined);
    rmSync(this.profile, { recursive: true, force: true });
  }
}
