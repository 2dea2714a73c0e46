/** The I/O edge of the rules: read a `--pacing-rules file.json` override from disk. */
import { readFile } from "node:fs/promises";
import { InvalidArgumentError } from "../errors.js";
import { applyRulesOverride, DEFAULT_RULES, type PacingRules, scaleRules } from "./rules.js";

/** Defaults + the file's override + the time scale. Bad files throw naming `--pacing-rules`. */
export async function loadPacingRules(path: string | undefined, timeScale = 1): Promise<PacingRules> {
  if (path === undefined) return scaleRules(DEFAULT_RULES, timeScale);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, "utf8"));
  } catch (err) {
    throw new InvalidArgumentError(
      "pacing-rules",
      `cannot read pacing rules from ${path}: ${(err as Error).message}`,
    );
  }
  return scaleRules(applyRulesOverride(DEFAULT_RULES, json), timeScale);
}
