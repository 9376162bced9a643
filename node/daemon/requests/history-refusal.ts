import { HistoryError } from '../../host/index.ts';
import { RequestError } from '../protocol.ts';

/** Runs `op`; a HistoryError (an unknown or no longer retained crank…) is a refusal. */
export async function historyRefusal<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (error) {
    if (error instanceof HistoryError) throw new RequestError(error.message);
    throw error;
  }
}
