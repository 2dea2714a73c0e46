// Preloaded into a profiled process (`node --import ./bench/profile-window.mjs …`): SIGUSR2
// starts V8's CPU profiler and its sampling heap profiler (counting objects the GC has already
// collected too, so it measures allocation, not retention); SIGUSR1 stops both and writes
// $PROFILE_PREFIX.cpuprofile and $PROFILE_PREFIX.heapprofile. The window is the measurement's,
// not the process's start-up or shutdown.
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";

const prefix = process.env.PROFILE_PREFIX;
const session = new Session();
session.connect();
process.on("SIGUSR2", () => {
  session.post("Profiler.enable");
  session.post("Profiler.setSamplingInterval", { interval: 250 });
  session.post("Profiler.start");
  session.post("HeapProfiler.startSampling", {
    samplingInterval: 1024,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
});
process.on("SIGUSR1", () => {
  // The in-process inspector answers synchronously.
  session.post("Profiler.stop", (err, res) => {
    if (!err && prefix) writeFileSync(`${prefix}.cpuprofile`, JSON.stringify(res.profile));
  });
  session.post("HeapProfiler.stopSampling", (err, res) => {
    if (!err && prefix) writeFileSync(`${prefix}.heapprofile`, JSON.stringify(res.profile));
  });
  process.stdout.write("profiled\n");
});
