/**
 * The output queued for every client together, and a pause on reading new
 * requests while it is too much.
 *
 * A member that does not read is cut off once its own queue passes
 * `--max-queue-bytes`. When the server itself falls behind (a busy room at
 * full speed on a core shared with other work), every member's queue grows at
 * once, and cutting them would lose what the server accepted because of its
 * own slowness. So while the total passes {@link BACKLOG_FACTOR} times
 * `--max-queue-bytes`, the stream doors read no new requests: each reader
 * waits until the total is back under half of that, or
 * {@link MAX_PAUSE_MS}, whichever comes first, and the senders' sockets push
 * back meanwhile. The time bound keeps clients that never read (whose bytes
 * stay queued until they are cut off) from stopping everyone else.
 *
 * @module
 */

/** The total bound, in `--max-queue-bytes`. */
export const BACKLOG_FACTOR = 64;
/** Longest a reader waits for the backlog to drain before it reads again. */
export const MAX_PAUSE_MS = 100;

let total = 0;
let limit = BACKLOG_FACTOR * 1024 * 1024;
let waiters: (() => void)[] = [];

/** Sets the bound from `--max-queue-bytes`. */
export function setBacklogLimit(maxQueueBytes: number): void {
  limit = BACKLOG_FACTOR * maxQueueBytes;
}

/** Units queued for clients, in flight included. */
export function backlogTotal(): number {
  return total;
}

/** Counts units queued (positive) or written or dropped (negative). */
export function addBacklog(units: number): void {
  total += units;
  if (units < 0 && waiters.length > 0 && total <= limit / 2) release();
}

/** Whether readers should wait ({@link relief}) before taking more requests. */
export function backlogged(): boolean {
  return total > limit;
}

/** Resolves once the backlog is under half its bound, or after {@link MAX_PAUSE_MS}. */
export function relief(): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, MAX_PAUSE_MS);
    waiters.push(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function release(): void {
  const woken = waiters;
  waiters = [];
  for (const wake of woken) wake();
}
