/**
 * Upstream id allocation on one line. Request and ticker ids count from 1,000,000,000;
 * order ids count up from NEXT_VALID_ID and never go down. Ids are never reused while the
 * switch lives, so a late answer for a retired id can be recognised and dropped.
 */
export const FIRST_REQUEST_ID = 1_000_000_000;

export class IdSpace {
  #nextRequest = FIRST_REQUEST_ID;
  #nextOrder = 1;

  nextRequestId(): number {
    return this.#nextRequest++;
  }

  /** TWS's NEXT_VALID_ID at every (re)connect: order ids only move forward. */
  seedOrders(nextValidId: number): void {
    if (nextValidId > this.#nextOrder) this.#nextOrder = nextValidId;
  }

  nextOrderId(): number {
    return this.#nextOrder++;
  }

  isRequestId(id: number): boolean {
    return id >= FIRST_REQUEST_ID;
  }
}
