import { capdataToJson, type Message, type RunQueueItem } from '../../../kernel/index.ts';
import type { MessageReport, QueueItemReport } from '../../surface-protocol/index.ts';

/** A queued message as people read it: its method and args decoded. */
export function messageReport(message: Message): MessageReport {
  let method: string | null = null;
  let args: unknown;
  try {
    const decoded = capdataToJson(message.methargs);
    if (Array.isArray(decoded)) {
      method = typeof decoded[0] === 'string' ? decoded[0] : null;
      args = decoded[1] ?? [];
    } else args = decoded;
  } catch {
    // Not smallcaps the kernel can read: show it raw.
    args = message.methargs;
  }
  return {
    method,
    args,
    result: message.result,
    ...(message.sender === undefined ? {} : { sender: message.sender }),
  };
}

/** A run-queue (or held) item as people read it. */
export function queueItemReport(seq: number, item: RunQueueItem): QueueItemReport {
  switch (item.kind) {
    case 'send':
      return {
        seq,
        kind: item.kind,
        target: item.target,
        message: messageReport(item.message),
      };
    case 'notify':
      return { seq, kind: item.kind, vatId: item.vatId, kpid: item.kpid };
    case 'dropExports':
    case 'retireExports':
    case 'retireImports':
      return { seq, kind: item.kind, vatId: item.vatId, krefs: item.krefs };
    case 'upgradeVat':
      return {
        seq,
        kind: item.kind,
        vatId: item.vatId,
        ...(item.result === null ? {} : { kpid: item.result }),
      };
    default:
      return { seq, kind: item.kind, vatId: item.vatId };
  }
}
