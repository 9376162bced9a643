/**
 * The first script of every extension page and of the service worker: it hardens the
 * realm before any other code runs. The build emits it as its own classic script
 * (dist/lockdown.js), loads it first everywhere, and checks that it did
 * (extension/build).
 */
import '../../vat-supervisor/lockdown.ts';
