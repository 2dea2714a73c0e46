/**
 * The switch's order map in the state dir, one JSON file per line: written atomically
 * (temp file, fsync, rename) before each new order goes upstream, read back at start.
 * A file that cannot be read is an error, never silently an empty map: an empty map would
 * let a resent PLACE_ORDER through as a new order.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import { SwitchboardError } from "../errors.js";
import type { OrderMapState, OrderStore } from "../switch/order-map.js";

export function orderFileStore(stateDir: string, lineName: string): OrderStore & { readonly path: string } {
  const path = join(stateDir, `orders-${lineName}.json`);
  return {
    path,
    load(): OrderMapState | undefined {
      let text: string;
      try {
        text = readFileSync(path, "utf8");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw new SwitchboardError("store", `cannot read the order map ${path}`, { cause: err });
      }
      const state = JSON.parse(text) as OrderMapState;
      if (state.version !== 1 || !Array.isArray(state.orders)) {
        throw new SwitchboardError("store", `${path} is not an order map this version understands`);
      }
      return state;
    },
    save(state: OrderMapState): void {
      mkdirSync(stateDir, { recursive: true });
      const tmp = `${path}.${process.pid}.tmp`;
      const fd = openSync(tmp, "w", 0o600);
      try {
        writeSync(fd, JSON.stringify(state));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, path);
    },
  };
}
