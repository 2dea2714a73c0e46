/**
 * Atomic file writes: a file is written under a temporary name, flushed to disk, then renamed
 * over its final name and the directory flushed, so a kill -9 at any moment leaves either the
 * old file or the new one, never half of one.
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";

export const TMP_SUFFIX = ".tmp";

export async function writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = `${path}.${randomBytes(4).toString("hex")}${TMP_SUFFIX}`;
  const fh = await open(tmp, "w");
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await syncDir(dir);
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the rename is still atomic there.
  } finally {
    await fh.close();
  }
}

/** Removes temporary files a killed run left behind, anywhere under `dir`. */
export async function removeTemporaries(dir: string): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (e.isFile() && e.name.endsWith(TMP_SUFFIX)) await rm(join(e.parentPath, e.name), { force: true });
  }
}
