/**
 * Launches Debian's Chromium with the built extension (dist/) on a profile directory
 * and talks to the kernel the way the panel does: chrome.runtime messages from an
 * extension page to the control surface.
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  chromium,
  type BrowserContext,
  type CDPSession,
  type Page,
  type Worker,
} from '@playwright/test';

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

  /** The unpacked extension this browser loads. */
  readonly dist: string;

  constructor(profile: string, dist: string = DIST) {
    this.profile = profile;
    this.dist = dist;
  }

  /**
   * A fresh profile directory, removed by `dispose()`; dist/ unless told otherwise.
   * With `beforeLoad`, the browser starts without the extension, `beforeLoad` runs
   * (given the extension's origin, known in advance: Chrome derives an unpacked
   * extension's id from its path), and only then is the extension loaded, through the
   * DevTools protocol: for what must be in place before the extension's first start.
   */
  static async launch(
    options: {
      dist?: string;
      beforeLoad?: (context: BrowserContext, origin: string) => Promise<void>;
    } = {},
  ): Promise<Cask> {
    const cask = new Cask(mkdtempSync(join(tmpdir(), 'cask-e2e-')), options.dist);
    await cask.open(options.beforeLoad);
    return cask;
  }

  /** Starts the browser on this profile (again, after `close()`). */
  async open(
    beforeLoad?: (context: BrowserContext, origin: string) => Promise<void>,
  ): Promise<void> {
    this.context = await chromium.launchPersistentContext(this.profile, {
      headless: true,
      executablePath: CHROMIUM,
      ...(beforeLoad ? { ignoreDefaultArgs: ['--disable-extensions'] } : {}),
      args: [
        ...(beforeLoad
          ? ['--enable-unsafe-extension-debugging']
          : [
              `--disable-extensions-except=${this.dist}`,
              `--load-extension=${this.dist}`,
            ]),
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
    if (beforeLoad) {
      await beforeLoad(this.context, `chrome-extension://${extensionIdOf(this.dist)}`);
      const browser = this.context.browser();
      if (!browser) throw new Error('no browser to load the extension into');
      const cdp = await browser.newBrowserCDPSession();
      try {
        await cdp.send('Extensions.loadUnpacked', { path: this.dist });
      } finally {
        await cdp.detach();
      }
    }
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

  /**
   * One state transfer with the worker (extension/background/state-transfer.ts), as the
   * panel makes it: `bytes` travel as base64 both ways.
   */
  async transfer(
    message: { type: string; [field: string]: unknown },
    bytes?: Buffer,
  ): Promise<{ ok: boolean; error?: string; bytes?: Buffer; [field: string]: unknown }> {
    const answer = await this.page.evaluate(
      async ([m, data]) => {
        const registration = await navigator.serviceWorker.ready;
        const channel = new MessageChannel();
        const reply = new Promise<Record<string, unknown>>((resolve) => {
          channel.port1.onmessage = (event) => resolve(event.data);
        });
        const sent =
          data === null
            ? m
            : { ...m, bytes: Uint8Array.from(atob(data), (c) => c.charCodeAt(0)) };
        registration.active?.postMessage(sent, [channel.port2]);
        const { bytes: got, ...rest } = await reply;
        if (!(got instanceof Uint8Array)) return rest;
        let binary = '';
        for (const byte of got) binary += String.fromCharCode(byte);
        return { ...rest, bytes: btoa(binary) };
      },
      [message, bytes ? bytes.toString('base64') : null] as const,
    );
    const { bytes: base64, ...rest } = answer as { ok: boolean; bytes?: string };
    return base64 === undefined
      ? rest
      : { ...rest, bytes: Buffer.from(base64, 'base64') };
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

  /** A DevTools session on the extension's service worker. Detach it when done. */
  async serviceWorkerTarget(): Promise<TargetSession> {
    const cdp = await this.context.newCDPSession(this.page);
    try {
      const { targetInfos } = await cdp.send('Target.getTargets');
      const worker = targetInfos.find(
        (t) => t.type === 'service_worker' && t.url.startsWith(this.url('')),
      );
      if (!worker) throw new Error('no service worker of the extension is running');
      return await TargetSession.attach(cdp, worker.targetId);
    } catch (error) {
      await cdp.detach();
      throw error;
    }
  }

  /**
   * A DevTools session on vat `vatId`'s page: its iframe (the host, which starts the
   * workers) or the dedicated worker the vat runs in. Detach it when done.
   */
  async vatTarget(vatId: string, which: 'iframe' | 'worker'): Promise<TargetSession> {
    const cdp = await this.context.newCDPSession(this.page);
    let session: TargetSession | undefined;
    try {
      const { targetInfos } = await cdp.send('Target.getTargets');
      const frame = targetInfos.find(
        (t) => t.type === 'iframe' && t.url.endsWith(`/vat.html#${vatId}`),
      );
      if (!frame) throw new Error(`no iframe for vat ${vatId}`);
      session = await TargetSession.attach(cdp, frame.targetId);
      if (which === 'iframe') return session;
      // Its other worker is its heartbeat's (`vat vN heartbeat`).
      return await session.child(
        (t) => t.type === 'worker' && t.title === `vat ${vatId}`,
      );
    } catch (error) {
      await (session?.detach() ?? cdp.detach());
      throw error;
    }
  }

  /**
   * Posts `message` on the kernel port from inside vat `vatId`'s worker, as a vat page
   * taken over by its code would: through the DevTools protocol, outside the page's own
   * code (which offers no way to do it).
   */
  async postFromVatPage(vatId: string, message: unknown): Promise<number> {
    const session = await this.vatTarget(vatId, 'worker');
    try {
      const proto = (await session.call('Runtime.evaluate', {
        expression: 'MessagePort.prototype',
      })) as { result: { objectId: string } };
      const ports = (await session.call('Runtime.queryObjects', {
        prototypeObjectId: proto.result.objectId,
      })) as { objects: { objectId: string } };
      const posted = (await session.call('Runtime.callFunctionOn', {
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
      await session.detach();
    }
  }

  /**
   * Crashes the renderer process of vat `vatId`'s iframe (DevTools `Page.crash`), as an
   * out-of-memory kill or a renderer bug would. Every vat iframe shares that process.
   */
  async crashVatPage(vatId: string): Promise<void> {
    const session = await this.vatTarget(vatId, 'iframe');
    try {
      const crashed = session.waitFor('Inspector.targetCrashed');
      await session.call('Inspector.enable');
      // Never answered: the renderer goes before it could.
      session.post('Page.crash');
      await crashed;
    } finally {
      await session.detach();
    }
  }

  /** A DevTools session on the offscreen document, the vat host. Detach it when done. */
  async offscreenTarget(): Promise<TargetSession> {
    const cdp = await this.context.newCDPSession(this.page);
    try {
      const { targetInfos } = await cdp.send('Target.getTargets');
      const target = targetInfos.find((t) => t.url === this.url('offscreen.html'));
      if (!target) throw new Error('no offscreen document');
      return await TargetSession.attach(cdp, target.targetId);
    } catch (error) {
      await cdp.detach();
      throw error;
    }
  }

  /** The service worker's offscreen document closed, as Chrome may close it. */
  async closeOffscreenDocument(): Promise<void> {
    await this.worker.evaluate(() => chrome.offscreen.closeDocument());
  }

  async close(): Promise<void> {
    await this.context.close();
  }

  async dispose(): Promise<void> {
    await this.context.close().catch(() => undefined);
    rmSync(this.profile, { recursive: true, force: true });
  }
}

/**
 * A DevTools session on one target of the browser (a vat's iframe, or the worker it
 * started), in messages of a page's session: Playwright gives sessions only for the
 * pages it knows. A worker's session is one more level down (`child`): this Chromium
 * answers a dedicated worker only through the session of its frame.
 */
export class TargetSession {
  readonly #send: (message: string) => void;
  readonly #close: () => Promise<void>;
  readonly #listeners = new Set<(message: TargetMessage) => void>();
  #nextId = 1;

  private constructor(send: (message: string) => void, close: () => Promise<void>) {
    this.#send = send;
    this.#close = close;
  }

  #receive(message: TargetMessage): void {
    for (const listener of [...this.#listeners]) listener(message);
  }

  static async attach(cdp: CDPSession, targetId: string): Promise<TargetSession> {
    const { sessionId } = await cdp.send('Target.attachToTarget', {
      targetId,
      flatten: false,
    });
    const session = new TargetSession(
      (message) =>
        void cdp
          .send('Target.sendMessageToTarget', { sessionId, message })
          .catch(() => undefined),
      () => cdp.detach().catch(() => undefined),
    );
    cdp.on('Target.receivedMessageFromTarget', (event) => {
      if (event.sessionId === sessionId) {
        session.#receive(JSON.parse(event.message) as TargetMessage);
      }
    });
    return session;
  }

  /**
   * A session on the first target of this one's that `accept` takes (a frame's worker),
   * reached through this one: detaching it detaches this one too.
   */
  async child(
    accept: (target: { type: string; title: string }) => boolean,
  ): Promise<TargetSession> {
    const attached = this.waitFor('Target.attachedToTarget', (params) =>
      accept(params.targetInfo as { type: string; title: string }),
    );
    // Attaches to the target's existing children too, each with an event.
    await this.call('Target.setAutoAttach', {
      autoAttach: true,
      waitForDebuggerOnStart: false,
      flatten: false,
    });
    const { sessionId } = (await attached) as { sessionId: string };
    const child = new TargetSession(
      (message) => this.post('Target.sendMessageToTarget', { sessionId, message }),
      () => this.detach(),
    );
    this.#listeners.add((message) => {
      const params = message.params as { sessionId?: string; message?: string };
      if (message.method === 'Target.receivedMessageFromTarget') {
        if (params.sessionId === sessionId && params.message) {
          child.#receive(JSON.parse(params.message) as TargetMessage);
        }
      }
    });
    return child;
  }

  /** Sends a command and does not wait for its answer; its id. */
  post(method: string, params: object = {}): number {
    const id = this.#nextId++;
    this.#send(JSON.stringify({ id, method, params }));
    return id;
  }

  /** Sends a command; its result. */
  call(method: string, params: object = {}): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      let id = 0;
      const listener = (message: TargetMessage) => {
        if (message.id !== id) return;
        this.#listeners.delete(listener);
        if (message.error) reject(new Error(`${method}: ${message.error.message}`));
        else resolve(message.result ?? {});
      };
      this.#listeners.add(listener);
      id = this.post(method, params);
    });
  }

  /** The params of the next event `method` of the target (that `accept` takes). */
  waitFor(
    method: string,
    accept: (params: Record<string, unknown>) => boolean = () => true,
  ): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      const listener = (message: TargetMessage) => {
        if (message.method !== method || !accept(message.params ?? {})) return;
        this.#listeners.delete(listener);
        resolve(message.params ?? {});
      };
      this.#listeners.add(listener);
    });
  }

  /** Detaches this session, and the sessions it is reached through. */
  async detach(): Promise<void> {
    this.#listeners.clear();
    await this.#close();
  }
}

interface TargetMessage {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
}

/** The id Chrome gives the unpacked extension at `dir`: its path's SHA-256, in a–p. */
export function extensionIdOf(dir: string): string {
  const hex = createHash('sha256').update(dir).digest('hex').slice(0, 32);
  return [...hex].map((digit) => String.fromCharCode(97 + parseInt(digit, 16))).join('');
}

/**
 * A copy of dist/ with its manifest changed by `edit`, in a temporary directory (remove
 * it after): the same extension under another configuration (and another id, which
 * Chrome derives from the path).
 */
export function copyDist(edit: (manifest: Record<string, unknown>) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'cask-dist-'));
  cpSync(DIST, dir, { recursive: true });
  const file = join(dir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  edit(manifest);
  writeFileSync(file, JSON.stringify(manifest, null, 2));
  return dir;
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
