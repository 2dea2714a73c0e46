// Client-id registry benchmark (run after `npm run build`):
//  1. lease+release ops/s for the memory, file and Redis stores (Redis: a redis-server this
//     script starts on a free loopback port);
//  2. collisions of seed 000's scheme (each agent picks random.randint(300, 399), no
//     coordination) against the registry, for 5 / 20 / 50 concurrent agents. The random scheme
//     is simulated (seeded Monte Carlo, plus the exact birthday formula); the registry is
//     measured with real processes leasing at once from the file store.
// Prints JSON to stdout and writes bench/results/registry.json.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { FileLeaseStore, MemoryLeaseStore, RedisLeaseStore, Registry } from "../dist/registry/index.js";

const WORKER = fileURLToPath(new URL("../src/registry/test-support/lease-worker.mjs", import.meta.url));
const AGENTS = [5, 20, 50];
const SIM_TRIALS = 100_000;
const MEASURED_ROUNDS = 10;
const IDS = 100; // seed 000: randint(300, 399)

async function opsPerSecond(store, pairs) {
  const reg = new Registry({ store });
  // Warm up (file creation, Redis script load).
  for (let i = 0; i < 5; i++) {
    const l = await reg.lease("workers", "bench", 60_000);
    await reg.release(l.clientId, { token: l.token });
  }
  const t0 = performance.now();
  for (let i = 0; i < pairs; i++) {
    const l = await reg.lease("workers", "bench", 60_000);
    await reg.release(l.clientId, { token: l.token });
  }
  const s = (performance.now() - t0) / 1000;
  await reg.close();
  return {
    pairs,
    seconds: round(s, 3),
    leaseReleasePairsPerSec: round(pairs / s, 1),
    opsPerSec: round((2 * pairs) / s, 1),
  };
}

/** Deterministic PRNG (mulberry32) so the simulation is reproducible. */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function simulateRandom(agents, trials, rnd) {
  let collided = 0;
  let agentsHit = 0;
  for (let t = 0; t < trials; t++) {
    const counts = new Map();
    for (let a = 0; a < agents; a++) {
      const id = 300 + Math.floor(rnd() * IDS);
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    let hit = 0;
    for (const c of counts.values()) if (c > 1) hit += c;
    if (hit > 0) collided++;
    agentsHit += hit;
  }
  let pNone = 1;
  for (let i = 0; i < agents; i++) pNone *= (IDS - i) / IDS;
  return {
    trials,
    collisionRate: round(collided / trials, 5),
    exactCollisionProbability: round(1 - pNone, 5),
    meanAgentsRefused326: round(agentsHit / trials, 3),
  };
}

function startWorker(cfg) {
  const child = spawn(process.execPath, [WORKER, JSON.stringify(cfg)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const queue = [];
  const waiting = [];
  createInterface({ input: child.stdout }).on("line", (line) => {
    const r = JSON.parse(line);
    const w = waiting.shift();
    if (w) w(r);
    else queue.push(r);
  });
  const next = () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => waiting.push(r)));
  return { child, next, send: (cmd) => child.stdin.write(`${cmd}\n`) };
}

async function measureRegistry(workers, agents, rounds) {
  const group = workers.slice(0, agents);
  let collided = 0;
  let duplicates = 0;
  let errors = 0;
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    const replies = group.map((w) => w.next());
    for (const w of group) w.send("lease");
    const got = await Promise.all(replies);
    errors += got.filter((g) => g.error).length;
    const ids = got.map((g) => g.id).filter((x) => x !== undefined);
    const dup = ids.length - new Set(ids).size;
    duplicates += dup;
    if (dup > 0) collided++;
    const rel = group.map((w) => w.next());
    for (const w of group) w.send("release");
    await Promise.all(rel);
  }
  const s = (performance.now() - t0) / 1000;
  return {
    rounds,
    collisionRate: collided / rounds,
    duplicateIds: duplicates,
    errors,
    msPerRound: round((s * 1000) / rounds, 1),
  };
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function startRedis() {
  const bin = process.env.REDIS_SERVER ?? "/usr/bin/redis-server";
  if (!existsSync(bin)) return null;
  const port = await freePort();
  const child = spawn(
    bin,
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  await new Promise((resolve, reject) => {
    let buf = "";
    child.stdout.on("data", (d) => {
      buf += d;
      if (buf.includes("Ready to accept connections")) resolve();
    });
    child.once("exit", () => reject(new Error("redis-server exited")));
  });
  return { url: `redis://127.0.0.1:${port}`, stop: () => child.kill("SIGKILL") };
}

function round(x, d) {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

const dir = await mkdtemp(join(tmpdir(), "sb-bench-"));
const redis = await startRedis();
const result = { bench: "registry", node: process.version, stores: {}, collisions: {} };
try {
  result.stores.memory = await opsPerSecond(new MemoryLeaseStore(), 20_000);
  result.stores.file = await opsPerSecond(new FileLeaseStore({ stateDir: join(dir, "fsync") }), 300);
  result.stores.fileNoFsync = await opsPerSecond(
    new FileLeaseStore({ stateDir: join(dir, "nofsync"), fsync: false }),
    1_000,
  );
  result.stores.redis = redis
    ? await opsPerSecond(new RedisLeaseStore({ url: redis.url }), 3_000)
    : { skipped: "redis-server not found" };

  const rnd = mulberry32(0);
  const stateDir = join(dir, "agents");
  const workers = Array.from({ length: Math.max(...AGENTS) }, () =>
    startWorker({ store: "file", stateDir, purpose: "agents" }),
  );
  await Promise.all(workers.map((w) => w.next()));
  for (const n of AGENTS) {
    const seed000 = simulateRandom(n, SIM_TRIALS, rnd);
    const registry = await measureRegistry(workers, n, MEASURED_ROUNDS);
    result.collisions[n] = {
      agents: n,
      seed000Random: { method: "simulated", ...seed000 },
      registry: { method: "measured, real processes, file store", ...registry },
      ratioRegistryToSeed000: round(registry.collisionRate / seed000.collisionRate, 5),
    };
  }
  for (const w of workers) w.child.kill("SIGKILL");
} finally {
  redis?.stop();
  await rm(dir, { recursive: true, force: true });
}

const json = JSON.stringify(result, null, 2);
process.stdout.write(`${json}\n`);
const out = fileURLToPath(new URL("./results/registry.json", import.meta.url));
await mkdir(fileURLToPath(new URL("./results/", import.meta.url)), { recursive: true });
await writeFile(out, `${json}\n`);
