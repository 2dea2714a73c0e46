/**
 * Starts a throwaway redis-server on a free loopback port for tests. Fails (never skips) when
 * redis-server is missing: CI installs it, and a silently skipped Redis suite proves nothing.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";

export const REDIS_SERVER_BIN = process.env.REDIS_SERVER ?? "/usr/bin/redis-server";

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
  /** Kill it (SIGKILL) and start it again on the same port and data dir. */
  restart(): Promise<void>;
}

export interface RedisServerOptions {
  /** `appendonly yes` + `appendfsync always` (what an HA group requires), in `dir`. */
  persistent?: boolean;
  /** Data dir for the append-only file (required with `persistent`). */
  dir?: string;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Debian's redis-server aborts under libfaketime: the suite's clock checks must not reach it. */
function withoutFakeTime(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { LD_PRELOAD: _preload, FAKETIME: _faketime, ...rest } = env;
  return rest;
}

function spawnRedis(port: number, o: RedisServerOptions): ChildProcess {
  const persistence = o.persistent
    ? ["--appendonly", "yes", "--appendfsync", "always", "--dir", o.dir ?? "."]
    : ["--appendonly", "no"];
  return spawn(
    REDIS_SERVER_BIN,
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", ...persistence],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: withoutFakeTime(process.env),
    },
  );
}

export async function startRedis(o: RedisServerOptions = {}): Promise<RedisServer> {
  if (!existsSync(REDIS_SERVER_BIN)) {
    throw new Error(`${REDIS_SERVER_BIN} not found: install redis-server (apt-get install redis-server)`);
  }
  if (o.persistent && !o.dir) throw new Error("a persistent redis-server needs a data dir");
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    let child = spawnRedis(port, o);
    const ready = await waitReady(child);
    if (ready) {
      return {
        url: `redis://127.0.0.1:${port}`,
        port,
        stop: () => stopChild(child),
        async restart() {
          await stopChild(child);
          for (let i = 0; ; i++) {
            child = spawnRedis(port, o);
            if (await waitReady(child)) return;
            await stopChild(child);
            // The port lingers for a moment after a kill: try again, boundedly.
            if (i >= 20) throw new Error(`redis-server did not restart on port ${port}`);
            await new Promise((r) => setTimeout(r, 100));
          }
        },
      };
    }
    await stopChild(child);
    // Another process took the port between our probe and redis binding it: try another.
    if (attempt >= 3) throw new Error("redis-server did not start");
  }
}

function waitReady(child: ChildProcess): Promise<boolean> {
  return new Promise((resolve) => {
    let buf = "";
    const onData = (d: Buffer) => {
      buf += d.toString();
      if (buf.includes("Ready to accept connections")) done(true);
    };
    const done = (ok: boolean) => {
      child.stdout?.off("data", onData);
      child.off("exit", onExit);
      resolve(ok);
    };
    const onExit = () => done(false);
    child.stdout?.on("data", onData);
    child.once("exit", onExit);
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });
}
