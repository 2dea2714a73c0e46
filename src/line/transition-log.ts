/**
 * How a line logs its transitions: log transitions, not loop iterations. The first failure
 * of a kind is a warning; identical repeats go to debug, so a gateway that stays away does
 * not flood the log.
 */
import type { Logger } from "../logger.js";
import type { LineState } from "./line-events.js";

export interface TransitionLogFields {
  from: LineState;
  to: LineState;
  reason: string;
  generation: number;
  clientId: number | undefined;
  attempt: number;
}

export class TransitionLog {
  readonly #log: Logger;
  #lastFailure = "";

  constructor(log: Logger) {
    this.#log = log;
  }

  log(f: TransitionLogFields): void {
    const { attempt, ...fields } = f;
    if (f.to === "ready") {
      this.#lastFailure = "";
      this.#log.info(fields, "line ready");
    } else if (f.to === "degraded") {
      this.#log.warn(fields, "line degraded");
    } else if (f.to === "closed") {
      this.#log.info(fields, "line closed");
    } else if (f.to === "reconnecting" && f.reason !== this.#lastFailure) {
      this.#lastFailure = f.reason;
      this.#log.warn({ ...fields, attempt }, "line reconnecting");
    } else {
      this.#log.debug({ ...fields, attempt }, `line ${f.to}`);
    }
  }
}
