// A process that races for an order-journal lock (run with `node --import tsx`). One command a
// stdin line: `go` tries to take the lock and prints {"won":true} or {"won":false,"error":…};
// `release` gives a won lock back and prints {"released":true}.
import { createInterface } from "node:readline";
import { acquireJournalLock } from "../journal-lock.js";

const path = process.argv[2] as string;
let release: (() => void) | undefined;
const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);

createInterface({ input: process.stdin }).on("line", (cmd) => {
  if (cmd === "go") {
    try {
      release = acquireJournalLock(path);
      say({ won: true });
    } catch (err) {
      say({ won: false, error: err instanceof Error ? err.message : String(err) });
    }
  } else if (cmd === "release") {
    release?.();
    release = undefined;
    say({ released: true });
  }
});
say({ ready: process.pid });
