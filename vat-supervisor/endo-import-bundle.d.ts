// @endo/import-bundle ships no type declarations; this covers what the supervisor uses.
declare module '@endo/import-bundle' {
  export interface ImportBundleOptions {
    bundleUrl?: string;
    filePrefix?: string;
    endowments?: Record<string, unknown>;
    inescapableGlobalProperties?: Record<PropertyKey, unknown>;
    expectedSha512?: string;
  }
  export function importBundle(
    bundle: { moduleFormat: string; [key: string]: unknown },
    options?: ImportBundleOptions,
    powers?: { computeSha512?: (bytes: string | Uint8Array) => string },
  ): Promise<Record<string, unknown>>;
}

// @endo/base64 ships no type declarations either.
declare module '@endo/base64' {
  export function decodeBase64(string: string): Uint8Array;
  export function encodeBase64(bytes: Uint8Array): string;
}
