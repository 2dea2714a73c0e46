/** What the switch needs of a line: a narrow port, so tests and other line kinds fit. */
import type { LineEvent, LineState } from "../line/line-events.js";

export interface UpstreamPort {
  readonly name: string;
  readonly state: LineState;
  readonly generation: number;
  readonly serverVersion: number | undefined;
  readonly accounts: readonly string[];
  readonly nextValidId: number | undefined;
  readonly clientId: number | undefined;
  send(fields: readonly string[]): void;
  onMessage(listener: (msgId: number, fields: readonly string[], generation: number) => void): () => void;
  on<T extends LineEvent["type"]>(type: T, fn: (event: Extract<LineEvent, { type: T }>) => void): () => void;
}

export const isUp = (state: LineState): boolean => state === "ready" || state === "degraded";
