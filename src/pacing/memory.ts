/**
 * Pacer memory: IB's historical windows (15 s identical, 2 s per contract, 600 s total) are
 * counted by the gateway, not by our process, so a restart must not forget what it already
 * spent in them. The pacer hands its remembered windows to a store after every change; the
 * next pacer starts from them.
 *
 * Invariants:
 * - the file is replaced by a rename (written whole or not at all), synchronously before the
 *   permit that changed it goes out, so a kill -9 never loses a request that reached the
 *   socket (no fsync: a process crash keeps the page cache, only a machine crash loses it);
 * - entries are wall-clock epoch ms: a restarted process compares them with its own clock;
 * - an unreadable or foreign file is ignored with a warning, never a start error (at worst
 *   the windows are re-spent, which is what happened before memory existed).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { WindowMemory } from "./checker.js";

/** The rules whose windows survive a restart. */
export const REMEMBERED_RULES: readonly string[] = [
  "historicalIdentical",
  "historicalSameContract",
  "historicalTotal",
];

export const PACER_MEMORY_FILE = "pacer-memory.json";

export interface PacerMemoryStore {
  load(): WindowMemory | undefined;
  save(windows: WindowMemory): void;
}

interface MemoryFile {
  version: 1;
  savedAt: string;
  windows: WindowMemory;
}

export class FilePacerMemory implements PacerMemoryStore {
  readonly path: string;
  readonly #warn: (message: string) => void;

  constructor(path: string, warn: (message: string) => void = () => {}) {
    this.path = path;
    this.#warn = warn;
  }

  load(): WindowMemory | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") this.#warn(`${this.path}: ${String(err)}`);
      return undefined;
    }
    try {
      const file = JSON.parse(text) as Partial<MemoryFile>;
      if (file.version !== 1 || typeof file.windows !== "object" || file.windows === null) {
        this.#warn(`${this.path}: not a pacer memory file (ignored)`);
        return undefined;
      }
      return file.windows;
    } catch (err) {
      this.#warn(`${this.path}: unreadable (${String(err)}), ignored`);
      return undefined;
    }
  }

  save(windows: WindowMemory): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    const file: MemoryFile = { version: 1, savedAt: new Date().toISOString(), windows };
    writeFileSync(tmp, JSON.stringify(file));
    renameSync(tmp, this.path);
  }
}
