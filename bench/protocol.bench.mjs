// Frames decoded per second: our incremental FrameDecoder vs a naive decoder that
// concatenates every chunk onto one buffer and splits it, both fed the same 64 KiB chunks;
// then large frames in small chunks, alternating the two over several rounds (goal: ours at
// least as fast in every round).
import { decodeFields, encodeFields, encodeFrame, FrameDecoder } from "../dist/protocol/index.js";
import { readFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { report } from "./lib.mjs";

const FRAMES = Number(process.env.BENCH_FRAMES ?? 200_000);
const CHUNK = 64 * 1024;

const frames = [];
for (let i = 0; i < FRAMES; i++) {
  frames.push(
    encodeFrame(
      encodeFields([
        "1",
        "6",
        String(1_000_000_000 + (i % 50)),
        "4",
        (100 + (i % 997) / 100).toFixed(2),
        "100",
        "0",
      ]),
    ),
  );
}
const stream = Buffer.concat(frames);
const chunks = [];
for (let pos = 0; pos < stream.length; pos += CHUNK) chunks.push(stream.subarray(pos, pos + CHUNK));

function ours() {
  const d = new FrameDecoder();
  let n = 0;
  for (const c of chunks) for (const f of d.push(c)) if (decodeFields(f).length === 7) n++;
  return n;
}

function naive() {
  let buf = Buffer.alloc(0);
  let n = 0;
  for (const c of chunks) {
    buf = Buffer.concat([buf, c]);
    while (buf.length >= 4) {
      const len = buf.readUInt32BE(0);
      if (buf.length < 4 + len) break;
      const fields = buf
        .subarray(4, 4 + len)
        .toString("utf8")
        .split("\0");
      fields.pop();
      if (fields.length === 7) n++;
      buf = buf.subarray(4 + len);
    }
  }
  return n;
}

function measure(fn, rounds = 5) {
  fn(); // warm up
  const rates = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    const n = fn();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (n !== FRAMES) throw new Error(`decoded ${n} of ${FRAMES}`);
    rates.push(FRAMES / (ms / 1000));
  }
  rates.sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)];
}

const oursRate = measure(ours);
const naiveRate = measure(naive);

// Second scenario: large answers (historical bars) arriving in small socket chunks, where a
// concatenating decoder copies its whole backlog on every chunk.
const BIG = 40;
const bigFrames = [];
for (let i = 0; i < BIG; i++) {
  const fields = ["17", String(i), "20250101", "20250102", "5000"];
  for (let b = 0; b < 5000; b++)
    fields.push(`2025010${b % 9} 10:00:00`, "1.5", "1.6", "1.4", "1.55", "100", "1.52", "12");
  bigFrames.push(encodeFrame(encodeFields(fields)));
}
const bigStream = Buffer.concat(bigFrames);
const SMALL = 16 * 1024;
const bigChunks = [];
for (let pos = 0; pos < bigStream.length; pos += SMALL) bigChunks.push(bigStream.subarray(pos, pos + SMALL));

/** Decoders of the large-frame scenario: frames completed over the whole stream. */
function largeOurs() {
  const d = new FrameDecoder();
  let n = 0;
  for (const c of bigChunks) n += d.push(c).length;
  return n;
}
function largeNaive() {
  let buf = Buffer.alloc(0);
  let n = 0;
  for (const c of bigChunks) {
    buf = Buffer.concat([buf, c]);
    while (buf.length >= 4) {
      const len = buf.readUInt32BE(0);
      if (buf.length < 4 + len) break;
      n++;
      buf = buf.subarray(4 + len);
    }
  }
  return n;
}
function timeOnce(decode) {
  const t0 = process.hrtime.bigint();
  const n = decode();
  if (n !== BIG) throw new Error(`decoded ${n} of ${BIG}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}
// One pass is a few ms, so a single timing is at the mercy of one GC or one preemption on a
// loaded machine: alternate the two decoders over several rounds and keep every round.
const LARGE_ROUNDS = Number(process.env.BENCH_LARGE_ROUNDS ?? 9);
largeOurs();
largeNaive();
const oursRounds = [];
const naiveRounds = [];
// Each timed pass starts from a collected heap, so neither pays for the other's garbage (the
// naive decoder leaves ~8× more behind).
setFlagsFromString("--expose-gc");
const collect = runInNewContext("gc");
for (let r = 0; r < LARGE_ROUNDS; r++) {
  collect();
  oursRounds.push(timeOnce(largeOurs));
  collect();
  naiveRounds.push(timeOnce(largeNaive));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const largeOursMs = median(oursRounds);
const largeNaiveMs = median(naiveRounds);
const roundsOursFaster = oursRounds.filter((o, i) => o <= naiveRounds[i]).length;

report("protocol", {
  loadAverage: readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number),
  smallFrames: {
    frames: FRAMES,
    chunkBytes: CHUNK,
    framesPerSecond: { ours: Math.round(oursRate), naiveSplit: Math.round(naiveRate) },
    ratioOursToNaive: Number((oursRate / naiveRate).toFixed(2)),
  },
  largeFrames: {
    frames: BIG,
    frameBytes: bigFrames[0].length,
    chunkBytes: SMALL,
    rounds: LARGE_ROUNDS,
    ms: { ours: Number(largeOursMs.toFixed(1)), naiveConcat: Number(largeNaiveMs.toFixed(1)) },
    msRange: {
      ours: [Math.min(...oursRounds), Math.max(...oursRounds)].map((x) => Number(x.toFixed(1))),
      naiveConcat: [Math.min(...naiveRounds), Math.max(...naiveRounds)].map((x) => Number(x.toFixed(1))),
    },
    speedupOursOverNaive: Number((largeNaiveMs / largeOursMs).toFixed(1)),
    roundsOursFaster,
    goal: "ours at least as fast as naive concatenation in every round",
    met: roundsOursFaster === LARGE_ROUNDS,
  },
});
