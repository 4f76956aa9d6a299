/**
 * CPU pinning with `taskset`, so the server and the load generator do not compete for one core.
 *
 * @module
 */

/** Runs a command quietly and says whether it exited 0 (false if it cannot be started). */
async function succeeds(command: string, args: string[]): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(command, { args, stdout: "null", stderr: "null" })
      .output();
    return success;
  } catch {
    return false;
  }
}

/**
 * Whether processes can be pinned to CPU 0 and CPU 1: `taskset` exists, the machine has at least
 * two CPUs and this process may use both.
 */
export async function canPin(): Promise<boolean> {
  if (navigator.hardwareConcurrency < 2) return false;
  return await succeeds("taskset", ["-c", "0", "true"]) &&
    await succeeds("taskset", ["-c", "1", "true"]);
}

/**
 * The program and arguments that run `command args…`, pinned to `cpu` with taskset when `cpu` is
 * not null. taskset execs the command, so the child's process id is the command's own.
 */
export function pinned(
  cpu: number | null,
  command: string,
  args: string[],
): { command: string; args: string[] } {
  return cpu === null
    ? { command, args }
    : { command: "taskset", args: ["-c", String(cpu), command, ...args] };
}
