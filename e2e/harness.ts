/**
 * Launches Debian's Chromium with the built extension (dist/) on a profile directory
 * and talks to the kernel the way the panel does: chrome.runtime messages from an
 * extension page to the control surface.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page, type Worker } from '@playwright/test';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DIST = join(ROOT, 'dist');
/** Where global-setup.ts writes the bundles of e2e/vats. */
export const E2E_BUNDLES = join(ROOT, 'node_modules/.cache/cask-e2e/bundles');
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
        ...(process.env.CASK_CHROME_LOG
          ? ['--enable-logging=stderr', `--v=${process.env.CASK_CHROME_LOG}`]
          : []),
      ],
    });
    this.worker =
      this.context.serviceWorkers()[0] ??
      (await this.context.waitForEvent('serviceworker'));
    this.extensionId = new URL(this.worker.url()).host;
    this.page = await this.context.newPage();
    await this.page.goto(this.url('panel.html'));
  }

  url(path: string): string {
    return `chrome-extension://${this.extensionId}/${path}`;
  }

  /** One surface request, answered as it is (refusals included). */
  async request<R = unknown>(
    method: string,
    params: unknown = {},
  ): Promise<SurfaceAnswer<R>> {
    return this.page.evaluate(
      ([m, p]) =>
        chrome.runtime.sendMessage({ type: 'cask:request', method: m, params: p }),
      [method, params] as const,
    ) as Promise<SurfaceAnswer<R>>;
  }

  /** One surface request that must succeed. */
  async ask<R = unknown>(method: string, params: unknown = {}): Promise<R> {
    const answer = await this.request<R>(method, params);
    if (!answer.ok) {
      throw new Error(
        `${method} refused: ${answer.error?.name}: ${answer.error?.message}`,
      );
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

  /**
   * An extension reload, as `chrome.runtime.reload()` or the reload button of
   * chrome://extensions does: Chrome tears down the service worker, the offscreen
   * document and the extension's pages and loads the extension again from dist/ (same
   * id, same profile). Resolves once the new service worker runs, on a new panel page.
   *
   * Developer mode is turned on first, as it is for anyone reloading an unpacked
   * extension. --load-extension loads dist/ as a command-line extension (location
   * kCommandLine), which Chrome lets run with developer mode off, but the reload loads
   * it again through UnpackedInstaller as an ordinary unpacked one (kUnpacked), and
   * Chrome disables an unpacked extension while developer mode is off
   * (DISABLE_UNSUPPORTED_DEVELOPER_EXTENSION): no worker starts and its pages fail with
   * net::ERR_BLOCKED_BY_CLIENT. A fresh profile has developer mode off.
   */
  async reloadExtension(): Promise<void> {
    const manager = await this.context.newPage();
    try {
      await manager.goto('chrome://extensions');
      // Chrome's own account of the reload: the INSTALLED event of the new load says
      // whether the extension came back enabled, and if not, why.
      const watch = await manager.evaluateHandle(async (extensionId) => {
        const { developerPrivate } = chrome as unknown as {
          developerPrivate: DeveloperPrivate;
        };
        await developerPrivate.updateProfileConfiguration({ inDeveloperMode: true });
        const { inDeveloperMode } = await developerPrivate.getProfileConfiguration();
        if (!inDeveloperMode) throw new Error('developer mode stays off');
        const outcome = new Promise<{ state: string; disableReasons: string[] }>(
          (resolve) => {
            developerPrivate.onItemStateChanged.addListener((event) => {
              if (event.item_id !== extensionId || event.event_type !== 'INSTALLED') {
                return;
              }
              const info = event.extensionInfo;
              resolve({
                state: info?.state ?? 'UNKNOWN',
                disableReasons: Object.entries(info?.disableReasons ?? {})
                  .filter(([, on]) => on === true)
                  .map(([reason]) => reason),
              });
            });
          },
        );
        return { outcome };
      }, this.extensionId);
      const prefix = this.url('');
      const nextWorker = this.context.waitForEvent('serviceworker', {
        predicate: (worker) => worker.url().startsWith(prefix),
      });
      const closed = this.page.waitForEvent('close');
      // Not awaited if the reload fails below.
      nextWorker.catch(() => undefined);
      closed.catch(() => undefined);
      // The call does not answer: its page goes away with the extension.
      void this.page.evaluate(() => chrome.runtime.reload()).catch(() => undefined);
      const { state, disableReasons } = await watch.evaluate(({ outcome }) => outcome);
      if (state !== 'ENABLED') {
        throw new Error(
          `the extension came back ${state} (${disableReasons.join(', ') || 'no reason given'})`,
        );
      }
      await closed;
      this.worker = await nextWorker;
    } finally {
      await manager.close();
    }
    this.page = await this.context.newPage();
    await this.page.goto(this.url('panel.html'));
  }

  /** Closes the browser and starts it again on the same profile. */
  async restartBrowser(): Promise<void> {
    await this.context.close();
    await this.open();
  }

  /**
   * Posts `message` on the kernel port from inside vat `vatId`'s iframe, as a vat page
   * taken over by its code would: through the DevTools protocol, outside the page's own
   * code (which offers no way to do it).
   */
  async postFromVatPage(vatId: string, message: unknown): Promise<number> {
    const cdp = await this.context.newCDPSession(this.page);
    try {
      const { targetInfos } = await cdp.send('Target.getTargets');
      const target = targetInfos.find(
        (t) => t.type === 'iframe' && t.url.endsWith(`/vat.html#${vatId}`),
      );
      if (!target) throw new Error(`no iframe for vat ${vatId}`);
      const { sessionId } = await cdp.send('Target.attachToTarget', {
        targetId: target.targetId,
        flatten: false,
      });
      let nextId = 1;
      const call = (method: string, params: object) =>
        new Promise<Record<string, unknown>>((resolve, reject) => {
          const id = nextId++;
          const onMessage = (event: { sessionId?: string; message: string }) => {
            const reply = JSON.parse(event.message) as {
              id?: number;
              result?: Record<string, unknown>;
              error?: { message: string };
            };
            if (reply.id !== id) return;
            cdp.off('Target.receivedMessageFromTarget', onMessage);
            if (reply.error) reject(new Error(`${method}: ${reply.error.message}`));
            else resolve(reply.result ?? {});
          };
          cdp.on('Target.receivedMessageFromTarget', onMessage);
          void cdp.send('Target.sendMessageToTarget', {
            sessionId,
            message: JSON.stringify({ id, method, params }),
          });
        });
      const proto = (await call('Runtime.evaluate', {
        expression: 'MessagePort.prototype',
      })) as { result: { objectId: string } };
      const ports = (await call('Runtime.queryObjects', {
        prototypeObjectId: proto.result.objectId,
      })) as { objects: { objectId: string } };
      const posted = (await call('Runtime.callFunctionOn', {
        objectId: ports.objects.objectId,
        functionDeclaration:
          // Posted on a later task: the kernel terminates the vat at once and its iframe
          // goes away, which must not happen before this call has answered.
          'function (m) { setTimeout(() => { for (const port of this) port.postMessage(m); }); return this.length; }',
        arguments: [{ value: message }],
        returnByValue: true,
      })) as { result: { value: number } };
      return posted.result.value;
    } finally {
      await cdp.detach();
    }
  }

  async close(): Promise<void> {
    await this.context.close();
  }

  async dispose(): Promise<void> {
    await this.context.close().catch(() => undefined);
    rmSync(this.profile, { recursive: true, force: true });
  }
}

/** The bundle of e2e/vats/<name>.js, for an inline `bundle` in a cluster config. */
export function testBundle(name: string): unknown {
  return JSON.parse(readFileSync(join(E2E_BUNDLES, `${name}.bundle.json`), 'utf8'));
}

/** The part of chrome.developerPrivate (chrome://extensions only) that the harness uses. */
interface DeveloperPrivate {
  updateProfileConfiguration(update: { inDeveloperMode?: boolean }): Promise<void>;
  getProfileConfiguration(): Promise<{ inDeveloperMode: boolean }>;
  onItemStateChanged: chrome.events.Event<
    (event: {
      event_type: string;
      item_id: string;
      extensionInfo?: { state: string; disableReasons: Record<string, unknown> };
    }) => void
  >;
}
