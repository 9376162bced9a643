// Deliberately not valid JavaScript, for the CLI's "does not build" error.
export function buildRootObject() {
  return Far('Broken', {
