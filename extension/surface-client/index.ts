/**
 * The surface's client, for extension pages (the panel): one request to the kernel's control surface. Throws
 * an Error carrying the surface's error name and message when the request is refused.
 */
import browser from 'webextension-polyfill';
import type { SurfaceAnswer } from '../surface/index.ts';

export async function askKernel<R = unknown>(
  method: string,
  params: Record<string, unknown> = {},
): Promise<R> {
  const answer = (await browser.runtime.sendMessage({
    type: 'cask:request',
    method,
    params,
  })) as SurfaceAnswer | undefined;
  if (answer === undefined) throw new Error('the Cask service worker did not answer');
  if (!answer.ok) {
    const error = new Error(answer.error.message);
    error.name = answer.error.name;
    throw error;
  }
  return answer.result as R;
}
