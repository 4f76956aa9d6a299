/**
 * Async work one after the other per key: the read-modify-writes of one
 * stored record (a nick's read markers, its kept rooms) never interleave.
 *
 * @module
 */

export class KeyedQueue {
  readonly #chains = new Map<string, Promise<unknown>>();

  /** Runs `work` once every earlier work of `key` has settled; its result or error. */
  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const next = (this.#chains.get(key) ?? Promise.resolve()).then(work, work);
    const settled = next.catch(() => {});
    this.#chains.set(key, settled);
    void settled.then(() => {
      if (this.#chains.get(key) === settled) this.#chains.delete(key);
    });
    return next;
  }
}
