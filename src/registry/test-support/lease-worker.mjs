// A leasing process for the concurrency and crash tests. It imports the built registry
// (npm test builds first) and takes commands, one per stdin line:
//   lease    lease one id of the purpose, bound to this pid; prints {"id":n}
//   release  release the held id with its token; prints {"released":n}
//   hammer   lease and release in a loop forever, printing each id (for SIGKILL tests)
// Config comes as one JSON argument: {store:"file"|"redis", stateDir?, url?, purpose}.
import { createInterface } from "node:readline";
import { FileLeaseStore, RedisLeaseStore, Registry } from "../../../dist/registry/index.js";

const cfg = JSON.parse(process.argv[2]);
const store =
  cfg.store === "redis"
    ? new RedisLeaseStore({ url: cfg.url })
    : new FileLeaseStore({ stateDir: cfg.stateDir, fsync: cfg.fsync ?? true });
const reg = new Registry({ store });
let held;

const say = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

async function handle(cmd) {
  if (cmd === "lease") {
    held = await reg.lease(cfg.purpose, `worker-${process.pid}`, 60_000, { pid: process.pid });
    say({ id: held.clientId });
  } else if (cmd === "release") {
    const l = await reg.release(held.clientId, { token: held.token });
    held = undefined;
    say({ released: l.clientId });
  } else if (cmd === "hammer") {
    for (;;) {
      const l = await reg.lease(cfg.purpose, `hammer-${process.pid}`, 60_000, { pid: process.pid });
      say({ id: l.clientId });
      await reg.release(l.clientId, { token: l.token });
    }
  } else if (cmd === "exit") {
    await reg.close();
    process.exit(0);
  }
}

const rl = createInterface({ input: process.stdin });
let chain = Promise.resolve();
rl.on("line", (line) => {
  chain = chain.then(() => handle(line.trim())).catch((err) => say({ error: String(err?.message ?? err) }));
});
rl.on("close", () => chain.then(() => reg.close()).then(() => process.exit(0)));
say({ ready: process.pid });
