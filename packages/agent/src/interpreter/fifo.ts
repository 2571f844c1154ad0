// Executions on one context run one at a time, in the order they arrived (FIFO): a
// second runCode on a busy context waits for the first instead of interleaving with it
// in the same kernel. A waiter whose client goes away leaves the queue.

export class FifoLock {
  private held = false;
  private readonly waiting: (() => void)[] = [];

  /** Resolves with the release function once it is this caller's turn; rejects if `signal` aborts first. */
  acquire(signal: AbortSignal): Promise<() => void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        this.next();
      };
      const grant = () => {
        signal.removeEventListener('abort', onAbort);
        resolve(release);
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(grant);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal.reason);
      };
      if (!this.held) {
        this.held = true;
        grant();
        return;
      }
      this.waiting.push(grant);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private next(): void {
    const grant = this.waiting.shift();
    if (grant) grant();
    else this.held = false;
  }
}
