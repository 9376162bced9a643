import { capdataToJson, type Settlement } from '../../../kernel/index.ts';

/** A kernel settlement as the surface reports it: JSON, references as `{ $kref }`. */
export interface SettlementJson {
  status: 'fulfilled' | 'rejected';
  value: unknown;
}

export function settlementToJson(settlement: Settlement): SettlementJson {
  return {
    status: settlement.rejected ? 'rejected' : 'fulfilled',
    value: capdataToJson(settlement.data),
  };
}
