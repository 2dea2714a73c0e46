/** The doctor: finds TWS / IB Gateway listeners, probes them and explains what is wrong. */
export { type AnalysisOptions, analyze } from "./analysis.js";
export { collectFacts, runDoctor } from "./doctor.js";
export { clockSkewMs, endpointJson, farmStates, isPaper } from "./facts.js";
export { leasesForEndpoint, readFileLeases } from "./leases.js";
export {
  DEFAULT_CLOCK_SKEW_WARN_MS,
  DEFAULT_DAEMON_URL,
  DEFAULT_DOCTOR_HOST,
  DEFAULT_DOCTOR_PORTS,
  DEFAULT_DOCTOR_TIMEOUT_MS,
  type DoctorOptions,
  PORT_CONVENTIONS,
  PROBE_ID_RANGE,
  resolveDoctorOptions,
} from "./options.js";
export { type PortInspection, type SystemInspector, systemInspector } from "./owner.js";
export { probeEndpoint } from "./probe.js";
export { formatHuman, toJson } from "./report.js";
export type * from "./types.js";
