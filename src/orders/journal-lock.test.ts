/**
 * The journal lock between real processes: contenders that all find the same dead holder
 * race to replace its lock, and exactly one of them wins, every time.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acquireJournalLock } from "./journal-lock.js";

const RACER = fileURLToPath(new URL("./test-support/lock-racer.test-util.ts", import.meta.url));
const CONTENDERS = 3;
const ROUNDS = 40;

type Reply = { ready?: number; won?: boolean; error?: string; released?: boolean };

class Racer {
  readonly child: ChildProcess;
  readonly #replies: Reply[] = [];
  readonly #waiting: ((r: Reply) => void)[] = [];
  readonly exited: Promise<void>;

  constructor(lock: string) {
    this.child = spawn(process.execPath, ["--import", "tsx", RACER, lock], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    this.exited = new Promise((resolve) => this.child.once("exit", () => resolve()));
    createInterface({ input: this.child.stdout! }).on("line", (line) => {
      const r = JSON.parse(line) as Reply;
      const w = this.#waiting.shift();
      if (w) w(r);
      else this.#replies.push(r);
    });
  }

  next(): Promise<Reply> {
    const r = this.#replies.shift();
    return r ? Promise.resolve(r) : new Promise((resolve) => this.#waiting.push(resolve));
  }

  send(cmd: string): void {
    this.child.stdin!.write(`${cmd}\n`);
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    await this.exited;
  }
}

let dir: string;
let racers: Racer[] = [];
let lock: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sb-lock-race-"));
  lock = join(dir, "orders-default.journal.lock");
  racers = Array.from({ length: CONTENDERS }, () => new Racer(lock));
  for (const r of racers) expect((await r.next()).ready).toBeGreaterThan(0);
});

afterAll(async () => {
  await Promise.all(racers.map((r) => r.kill()));
  rmSync(dir, { recursive: true, force: true });
});

describe("the journal lock between processes", () => {
  it("a dead holder's lock goes to exactly one of the processes racing for it", async () => {
    // A process that has exited: its pid is free (the kernel does not hand it out again at once).
    const dead = spawnSync(process.execPath, ["-e", ""]).pid;
    for (let round = 0; round < ROUNDS; round++) {
      writeFileSync(lock, JSON.stringify({ pid: dead, start: "1", nonce: `dead-${round}` }));
      const replies = racers.map((r) => r.next());
      for (const r of racers) r.send("go");
      const results = await Promise.all(replies);
      const winners = results.filter((r) => r.won === true);
      expect(winners, `round ${round}: ${JSON.stringify(results)}`).toHaveLength(1);
      for (const r of results.filter((x) => x.won !== true)) expect(r.error).toMatch(/in use by/);
      const winner = racers[results.findIndex((r) => r.won === true)] as Racer;
      const released = winner.next();
      winner.send("release");
      await released;
      expect(existsSync(lock)).toBe(false);
    }
  });

  it("a takeover left half-done by a contender that died is taken over in turn", () => {
    const dead = spawnSync(process.execPath, ["-e", ""]).pid;
    const path = join(dir, "orders-wedged.journal.lock");
    writeFileSync(path, JSON.stringify({ pid: dead, start: "1", nonce: "holder" }));
    // A contender won the takeover marker of that holder, then died before replacing the lock.
    writeFileSync(`${path}.takeover.${dead}-1-holder`, JSON.stringify({ pid: dead, start: "2", nonce: "c" }));
    const release = acquireJournalLock(path);
    expect(JSON.parse(readFileSync(path, "utf8"))).toMatchObject({ pid: process.pid });
    expect(readdirSync(dir).filter((n) => n.startsWith("orders-wedged"))).toEqual([
      "orders-wedged.journal.lock",
    ]);
    release();
    expect(existsSync(path)).toBe(false);
  });
});
