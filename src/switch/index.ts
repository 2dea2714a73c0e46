export type { BroadcastKind } from "./broadcasts.js";
export { FIRST_REQUEST_ID } from "./id-space.js";
export { isWarningCode } from "./inbound.js";
export * from "./options.js";
export * from "./switch.js";
export type { SwitchEvent } from "./switch-events.js";
export * from "./tenant.js";
export type { UpstreamPort } from "./upstream.js";
