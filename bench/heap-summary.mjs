// Summarises a sampling heap profile (bench/heap-sampler.mjs): bytes allocated by function
// (self), and per message when profile-proxy.mjs recorded the window's message count.
//   node bench/heap-summary.mjs bench/results/profiles/rtt.heapprofile [top]
import { existsSync, readFileSync } from "node:fs";

const file = process.argv[2];
const top = Number(process.argv[3] ?? 30);
const { head } = JSON.parse(readFileSync(file, "utf8"));
const windowFile = file.replace(/\.heapprofile$/, ".window.json");
const messages = existsSync(windowFile) ? JSON.parse(readFileSync(windowFile, "utf8")).messages : 0;
const fns = new Map();
let total = 0;
(function walk(node) {
  const bytes = node.selfSize;
  if (bytes > 0) {
    const f = node.callFrame;
    const src = f.url.replace(/^.*\/(dist|node_modules)\//, "$1/") || "(native)";
    const key = `${f.functionName || "(anonymous)"}  ${src}:${f.lineNumber + 1}`;
    fns.set(key, (fns.get(key) ?? 0) + bytes);
    total += bytes;
  }
  for (const c of node.children) walk(c);
})(head);
const per = (b) => (messages ? `${(b / messages).toFixed(0).padStart(6)} B/msg` : `${b} B`);
console.log(
  `allocated ${(total / 2 ** 20).toFixed(1)} MiB${messages ? `, ${(total / messages).toFixed(0)} B per message (${messages})` : ""}`,
);
for (const [k, b] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${per(b)}  ${k}`);
