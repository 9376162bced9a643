import { array, number, object, string } from '@metamask/superstruct';
import { cliPins } from '../pins.ts';
import { RequestError } from '../protocol.ts';
import { defineMethod, SHORT_DEADLINE_MS } from './method.ts';

/** The daemon's pid, socket, uptime, vats, crank and pins (a daemon's request only). */
export const status = defineMethod({
  name: 'status',
  params: object({}),
  result: object({
    pid: number(),
    dataDir: string(),
    socket: string(),
    startedAt: string(),
    uptimeMs: number(),
    crank: number(),
    durableCrank: number(),
    runQueueLength: number(),
    vats: array(object({ name: string(), vatId: string(), state: string() })),
    pins: array(string()),
  }),
  deadlineMs: () => SHORT_DEADLINE_MS,
  async handler(hooks) {
    const self = hooks.daemon;
    if (!self) throw new RequestError('status is a request for a daemon');
    const { kernel } = await hooks.host();
    const now = kernel.status();
    return {
      pid: self.pid,
      dataDir: hooks.dataDir,
      socket: self.socket,
      startedAt: new Date(self.startedAt).toISOString(),
      uptimeMs: Date.now() - self.startedAt,
      crank: now.crank,
      durableCrank: now.durableCrank,
      runQueueLength: now.runQueueLength,
      vats: kernel.state
        .listVats()
        .map((v) => ({ name: v.name, vatId: v.vatId, state: v.state })),
      pins: cliPins(kernel),
    };
  },
});
