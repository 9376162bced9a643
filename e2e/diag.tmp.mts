import { Cask } from '/work/main/e2e/harness.ts';
import { readFileSync } from 'node:fs';
const cask = await Cask.launch();
cask.context.on('serviceworker', (w) => console.log('SW EVENT', w.url()));
const info = async (label: string) => {
  const p = await cask.context.newPage();
  await p.goto('chrome://extensions');
  const r = await p.evaluate(async () => {
    const d = (chrome as any).developerPrivate;
    const all = await d.getExtensionsInfo({ includeDisabled: true, includeTerminated: true });
    return all.filter((e: any) => e.location !== 'COMPONENT').map((e: any) => ({ id: e.id, state: e.state, location: e.location, disableReasons: e.disableReasons, path: e.prettifiedPath, runtimeErrors: e.runtimeErrors?.length, manifestErrors: e.manifestErrors, installWarnings: e.installWarnings, blacklistText: e.blacklistText, controlledInfo: e.controlledInfo }));
  });
  console.log(label, JSON.stringify(r, null, 1));
  await p.close();
};
try {
  await cask.ask('whenIdle');
  await info('BEFORE');
  const closed = cask.page.waitForEvent('close');
  void cask.page.evaluate(() => chrome.runtime.reload()).catch(() => {});
  await closed;
  await new Promise((r) => setTimeout(r, 3000));
  await info('AFTER');
  for (const f of ['Preferences', 'Secure Preferences']) {
    try { const j = JSON.parse(readFileSync(`${cask.profile}/Default/${f}`, 'utf8')); console.log(f, JSON.stringify(j.extensions?.settings?.[cask.extensionId], null, 1)?.slice(0, 3000)); } catch (e) { console.log(f, String(e)); }
  }
} catch (e) { console.log('ERR', e); }
finally { await cask.dispose(); }
