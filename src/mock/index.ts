export type { Handler, MockContext } from "./context.js";
export { ControlServer } from "./control.js";
export { FaultState, NOTICE_TEXTS, noticeText } from "./faults.js";
export {
  type ErrorFault,
  type MockEvent,
  MockGateway,
  type MockGatewayState,
  type MockPlugin,
  type MockStartInfo,
} from "./gateway.js";
export * from "./options.js";
export { type StartedMockGateway, startMockGateway } from "./start.js";
export type { MockClientView, MockCounters, MockOrderView, MockState } from "./state.js";
export type { SubscriptionKind, SubscriptionView } from "./subscriptions.js";
export { frozenClock, parseInstant, runningClockFrom, type WallClock } from "./wall-clock.js";
export type { HistoryAnswer, HistoryRequestView } from "./history-log.js";
