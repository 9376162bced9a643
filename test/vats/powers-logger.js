// An ocap-kernel-style vat: it logs through vatPowers.logger and its sub-loggers, and
// can end itself through liveslots' exitVat / exitVatWithFailure.
import { Far } from '@endo/far';

export function buildRootObject(vatPowers) {
  const logger = vatPowers.logger.subLogger({ tags: ['ocap-style'] });
  logger.info('built');
  return Far('root', {
    bootstrap() {},
    hello(name) {
      logger
        .subLogger({ tags: ['greeter'] })
        .subLogger('inner')
        .log('hello', name, { n: 1 });
      vatPowers.testLog('said hello to ', name, ' ', { times: 1 });
      return `hi ${name}`;
    },
    flood(n) {
      for (let i = 0; i < n; i += 1) logger.debug(`line ${i}`);
      return n;
    },
    long(n) {
      logger.warn('x'.repeat(n));
      return n;
    },
    awkward() {
      const hostile = {
        toJSON() {
          throw Error('cannot be rendered');
        },
      };
      logger.error(hostile);
      logger.log(10n, undefined, Symbol('s'), Error('an error'));
      return 'still running';
    },
    exit(completion) {
      vatPowers.exitVat(completion);
      return 'exiting';
    },
    fail(why) {
      vatPowers.exitVatWithFailure(Error(why));
      return 'failing';
    },
    powers() {
      return Object.keys(vatPowers).sort();
    },
  });
}
