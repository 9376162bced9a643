/**
 * The panel: for now the kernel's status and vats, refreshed after each request. It
 * talks to the kernel only through the control surface.
 */
import { askKernel } from '../surface-client/index.ts';

async function refresh(): Promise<void> {
  const status = document.getElementById('status');
  const vats = document.getElementById('vats');
  try {
    const [s, v] = await Promise.all([askKernel('status'), askKernel('listVats')]);
    if (status) status.textContent = JSON.stringify(s, null, 2);
    if (vats) vats.textContent = JSON.stringify(v, null, 2);
  } catch (error) {
    if (status) status.textContent = `The kernel did not answer: ${String(error)}`;
  }
}

void refresh();
