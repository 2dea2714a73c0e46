// Opens an order journal (importing orders-<line>.json if it is there) and kills itself with
// SIGKILL just before its Nth file-system change — run with `node --import tsx` by
// journal-import.test.ts to show that a kill at any moment of the import loses nothing.
// Prints "done" when the open finished before the Nth change.
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";

const [stateDir, killAtText] = process.argv.slice(2) as [string, string];
const killAt = Number(killAtText);
let changes = 0;
const CHANGES = [
  "writeSync",
  "writeFileSync",
  "renameSync",
  "linkSync",
  "unlinkSync",
  "fsyncSync",
  "fdatasyncSync",
] as const;
for (const name of CHANGES) {
  const real = fs[name] as (...args: unknown[]) => unknown;
  (fs as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
    if (++changes === killAt) process.kill(process.pid, "SIGKILL");
    return real(...args);
  };
}
syncBuiltinESMExports();

const { FileOrderJournal } = await import("../journal.js");
FileOrderJournal.open({ stateDir, line: "default" });
process.stdout.write("done\n");
