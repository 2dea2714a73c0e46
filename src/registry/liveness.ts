/** Is a local process alive? Signal 0 checks existence without sending anything. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return typeof err === "object" && err !== null && "code" in err && err.code === "EPERM";
  }
}
