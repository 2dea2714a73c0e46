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
  /** `payload`: the frame the fields were decoded from, when the line has it (valid during the call). */
  onMessage(
    listener: (msgId: number, fields: readonly string[], generation: number, payload?: Buffer) => void,
  ): () => void;
  on<T extends LineEvent["type"]>(type: T, fn: (event: Extract<LineEvent, { type: T }>) => void): () => void;
}

export const isUp = (state: LineState): boolean => state === "ready" || state === "degraded";
