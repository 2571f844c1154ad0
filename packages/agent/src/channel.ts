// A bounded, single-consumer queue that turns pushed events into an async iterator.
// Producers learn when the consumer falls behind (push returns false past the high
// water mark) and get a callback once it has caught up, so they can pause the source
// instead of buffering without limit.

export class Channel<T> implements AsyncIterable<T> {
  private items: { value: T; size: number }[] = [];
  private bytes = 0;
  private waiter: ((r: IteratorResult<T>) => void) | null = null;
  private closed = false;
  private drainListeners: (() => void)[] = [];
  private behind = false;

  constructor(
    private readonly highWater = 4 << 20,
    private readonly idleMs = 0,
    private readonly idleValue?: () => T,
  ) {}

  get full(): boolean {
    return this.bytes >= this.highWater;
  }

  /** Queues a value; false means the consumer is behind and the producer should wait. */
  push(value: T, size = 0): boolean {
    if (this.closed) return true;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w({ value, done: false });
      return true;
    }
    this.items.push({ value, size });
    this.bytes += size;
    if (this.full) this.behind = true;
    return !this.full;
  }

  onDrain(fn: () => void): void {
    this.drainListeners.push(fn);
  }

  close(): void {
    this.closed = true;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w({ value: undefined as never, done: true });
    }
  }

  private next(): Promise<IteratorResult<T>> {
    const item = this.items.shift();
    if (item) {
      this.bytes -= item.size;
      if (this.behind && this.bytes < this.highWater / 2) {
        this.behind = false;
        const ls = this.drainListeners;
        this.drainListeners = [];
        for (const l of ls) l();
      }
      return Promise.resolve({ value: item.value, done: false });
    }
    if (this.closed) return Promise.resolve({ value: undefined as never, done: true });
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      this.waiter = (r) => {
        if (timer) clearTimeout(timer);
        resolve(r);
      };
      if (this.idleMs > 0 && this.idleValue) {
        const idle = this.idleValue;
        timer = setTimeout(() => {
          this.waiter = null;
          resolve({ value: idle(), done: false });
        }, this.idleMs);
      }
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return { next: () => this.next(), return: async () => { this.close(); return { value: undefined as never, done: true }; } };
  }
}
