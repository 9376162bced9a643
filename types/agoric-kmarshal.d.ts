// @agoric/kmarshal ships no type declarations.
declare module '@agoric/kmarshal' {
  export interface CapData {
    body: string;
    slots: string[];
  }
  export function kser(value: unknown): CapData;
  export function kunser(data: CapData): unknown;
  export function kslot(kref: string, iface?: string): unknown;
  export function krefOf(value: unknown): string;
  export function makeError(message: string): CapData;
}
