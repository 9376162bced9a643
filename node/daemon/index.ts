/**
 * The daemon: a kernel of one data directory kept up (its vats' heaps with it), and the
 * client that talks to it over a Unix socket only its owner may use. The requests
 * (./requests) are answered by the same handlers in the daemon and in a CLI process
 * that opened the directory itself. See docs/daemon.md.
 */
export {
  startDaemon,
  DaemonRunningError,
  type Daemon,
  type DaemonOptions,
  type StopReport,
} from './server.ts';
export {
  DaemonClient,
  DaemonRefusal,
  DaemonUnreachable,
  findDaemon,
  CONNECT_DEADLINE_MS,
  type FoundDaemon,
} from './client.ts';
export {
  METHODS,
  KREF,
  shortBundleId,
  type InspectionSource,
  type MethodName,
  type ParamsOf,
  type RequestHooks,
  type ResultOf,
} from './requests/index.ts';
export {
  PROTOCOL,
  PROTOCOL_VERSION,
  MAX_FRAME_BYTES,
  ProtocolError,
  RequestError,
  parseWith,
} from './protocol.ts';
export { LOG_NAME, SOCKET_NAME, socketPlace, realDataDir } from './socket-path.ts';
export { CLI_CALLER } from './pins.ts';
