/** Where the file store lives: $XDG_STATE_HOME/switchboard, else ~/.local/state/switchboard. */
import { homedir } from "node:os";
import { join } from "node:path";

/** Takes the environment as an argument so only the CLI edge reads process.env. */
export function defaultStateDir(env: Readonly<Record<string, string | undefined>>): string {
  const xdg = env.XDG_STATE_HOME;
  // The XDG spec says relative paths are invalid and must be ignored.
  if (xdg?.startsWith("/")) return join(xdg, "switchboard");
  return join(env.HOME || homedir(), ".local", "state", "switchboard");
}
