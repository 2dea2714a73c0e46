/**
 * Is the gateway at host:port a Switchboard mock? The doctor's signs: the owning process runs
 * `mock-gateway`, or the port 100 above answers as the mock's control API. A dataset records
 * the answer so mock bars never mix with real ones.
 */
import { systemClock } from "../clock.js";
import { detectMock } from "../doctor/checks.js";
import { systemInspector } from "../doctor/owner.js";

/** The mock's control API sits 100 above its API port by convention (4002 → 4102). */
const MOCK_CONTROL_OFFSET = 100;

export async function isSwitchboardMock(host: string, port: number): Promise<boolean> {
  const local = host === "127.0.0.1" || host === "localhost" || host === "::1";
  const owner = local
    ? ((await systemInspector().inspect([port], new Set())).owners.get(port) ?? null)
    : null;
  return (await detectMock(host, owner, [port + MOCK_CONTROL_OFFSET], 1_000, systemClock)) !== null;
}
