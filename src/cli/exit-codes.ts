/** Exit codes of every command: 0 ok, 1 runtime failure, 2 bad usage or bad config. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Thrown by commands to end with a given code and message (printed to stderr). */
export class CliExit extends Error {
  readonly exitCode: number;
  constructor(exitCode: number, message = "") {
    super(message);
    this.exitCode = exitCode;
  }
}
