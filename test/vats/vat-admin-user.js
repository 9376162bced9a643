// Creates vats at run time through the vat admin it is given at bootstrap (SwingSet's
// style), and a subcluster (ocap-kernel's).
import { E, Far } from '@endo/far';

export function buildRootObject(_vatPowers, _parameters, baggage) {
  let vatAdmin = baggage.has('vatAdmin') ? baggage.get('vatAdmin') : undefined;
  const nodes = new Map();
  return Far('AdminUser', {
    bootstrap(_vats, services) {
      vatAdmin = services.vatAdmin;
      // A service presence is durable: it survives this vat's restarts.
      baggage.init('vatAdmin', vatAdmin);
      return 'ready';
    },
    async make(name, start) {
      const { root, adminNode } = await E(vatAdmin).createVat(
        { bundleName: 'counter' },
        { name, parameters: { start } },
      );
      nodes.set(name, adminNode);
      if (!baggage.has(`root:${name}`)) baggage.init(`root:${name}`, root);
      return root;
    },
    async bump(name) {
      return E(baggage.get(`root:${name}`)).increment();
    },
    status: (name) => E(nodes.get(name)).getStatus(),
    // SwingSet's shape: vatParameters, and { incarnationNumber } back.
    async upgrade(name, bundleName, vatParameters) {
      try {
        return await E(nodes.get(name)).upgrade({ bundleName }, { vatParameters });
      } catch (error) {
        return `refused: ${error.message}`;
      }
    },
    end: (name, reason) => E(nodes.get(name)).terminate(reason),
    async makeBad(kind) {
      try {
        if (kind === 'bundle') {
          await E(vatAdmin).createVat({ bundleName: 'nope' }, { name: 'x1' });
        } else if (kind === 'name') {
          await E(vatAdmin).createVat({ bundleName: 'counter' }, { name: 'user' });
        } else {
          await E(vatAdmin).createVat({ bundleName: 'counter' }, { nmae: 'x2' });
        }
        return 'created';
      } catch (error) {
        return error.message;
      }
    },
    async subcluster() {
      const { roots, bootstrapResult } = await E(vatAdmin).createSubcluster({
        bootstrap: 'sub1',
        vats: {
          sub1: { bundleName: 'counter', parameters: { start: 10 } },
          sub2: { bundleName: 'counter', parameters: { start: 20 } },
        },
      });
      const result = await bootstrapResult;
      return [result, await E(roots.sub2).increment()];
    },
  });
}
