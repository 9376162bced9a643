/** Every request the daemon answers (and a CLI process answers for itself). */
import { fork } from './fork.ts';
import { history } from './history.ts';
import { inspect } from './inspect.ts';
import { keyHistory } from './key-history.ts';
import { label } from './label.ts';
import { release } from './release.ts';
import { restart } from './restart.ts';
import { restore } from './restore.ts';
import { run } from './run.ts';
import { send } from './send.ts';
import { status } from './status.ts';
import { stop } from './stop.ts';
import { terminate } from './terminate.ts';
import { unlabel } from './unlabel.ts';
import { upgrade } from './upgrade.ts';
import { versions } from './versions.ts';
import { vatstoreAt } from './vatstore-at.ts';

export const METHODS = {
  status,
  stop,
  send,
  inspect,
  restart,
  terminate,
  release,
  run,
  upgrade,
  versions,
  // History (docs/history.md).
  history,
  vatstoreAt,
  keyHistory,
  label,
  unlabel,
  restore,
  fork,
} as const;

export type Methods = typeof METHODS;
export type MethodName = keyof Methods;
export type ParamsOf<M extends MethodName> = Parameters<Methods[M]['handler']>[1];
export type ResultOf<M extends MethodName> = Awaited<ReturnType<Methods[M]['handler']>>;

export { KREF } from './send.ts';
export { shortBundleId } from './versions.ts';
export {
  defineMethod,
  type DaemonMethod,
  type DaemonSelf,
  type InspectionSource,
  type RequestHooks,
} from './method.ts';
