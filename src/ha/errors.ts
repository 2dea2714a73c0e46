/** Typed failures of the HA group; callers branch on `code`. */
import { SwitchboardError } from "../errors.js";

/** The group's Redis would lose acknowledged writes on a crash (start error, exit 2). */
export class RedisPersistenceError extends SwitchboardError {
  constructor(message: string, cause?: unknown) {
    super("config", message, { field: "redis", cause });
  }
}

/** This daemon's `lines` differ from the group's (start error, exit 2). */
export class GroupConfigMismatchError extends SwitchboardError {
  readonly group: string;
  constructor(group: string) {
    super(
      "config",
      `the lines of this daemon differ from those of HA group "${group}": every daemon of a group ` +
        "must configure the same lines (stop the group, or give this daemon another group)",
      { field: "lines" },
    );
    this.group = group;
  }
}

/**
 * A write carried a fencing token that is no longer the group's lease: another daemon is (or
 * may become) active. The writer must step down at once.
 */
export class FencedError extends SwitchboardError {
  readonly token: number;
  constructor(group: string, token: number) {
    super("fenced", `HA group "${group}": fencing token ${token} is no longer the group's lease`, {
      reason: "fenced",
    });
    this.token = token;
  }
}
