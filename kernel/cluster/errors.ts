export class ClusterConfigError extends Error {
  override name = 'ClusterConfigError';
}
