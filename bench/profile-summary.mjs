// Summarises a V8 .cpuprofile: self time by function and by source file, as text, over the
// measuring window, per message when profile-proxy.mjs recorded the count (<name>.window.json).
//   node bench/profile-summary.mjs bench/results/profiles/rtt.cpuprofile [top]
import { existsSync, readFileSync } from "node:fs";

const file = process.argv[2];
const top = Number(process.argv[3] ?? 30);
const prof = JSON.parse(readFileSync(file, "utf8"));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const windowFile = file.replace(/\.cpuprofile$/, ".window.json");
const win = existsSync(windowFile) ? JSON.parse(readFileSync(windowFile, "utf8")) : { messages: 0 };
const self = new Map();
for (let i = 0; i < prof.samples.length; i++) {
  const dt = prof.timeDeltas[i] ?? 0;
  self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + dt);
}
const fns = new Map();
const files = new Map();
let busy = 0;
let total = 0;
for (const [id, us] of self) {
  const { callFrame: f } = byId.get(id);
  total += us;
  if (f.functionName === "(idle)" || f.functionName === "(program)") continue;
  busy += us;
  const src = f.url.replace(/^.*\/(dist|node_modules)\//, "$1/").replace(/^node:/, "node:") || "(native)";
  const key = `${f.functionName || "(anonymous)"}  ${src}:${f.lineNumber + 1}`;
  fns.set(key, (fns.get(key) ?? 0) + us);
  files.set(src, (files.get(src) ?? 0) + us);
}
const pct = (us) => `${((100 * us) / busy).toFixed(1).padStart(5)} %`;
const perMsg = win.messages ? `, ${(busy / win.messages).toFixed(1)} µs per message (${win.messages})` : "";
console.log(`busy ${(busy / 1000).toFixed(0)} ms of ${(total / 1000).toFixed(0)} ms sampled${perMsg}`);
console.log("\nby function (self time, share of busy):");
for (const [k, us] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${k}`);
console.log("\nby file:");
for (const [k, us] of [...files].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${k}`);
