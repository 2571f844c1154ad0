// Server streams that can stay silent for long (a job that prints nothing, code that computes)
// send a keepalive message when they have sent nothing for a while, so that proxies and
// clients with idle timeouts keep the stream open.

/** A keepalive is sent when a stream has sent nothing for this long. */
export const KEEPALIVE_MS = 5000;

/** The items of `source`, with `keepalive()` in between whenever none came for `everyMs`. */
export async function* withKeepalives<T>(source: AsyncIterable<T>, keepalive: () => T, everyMs = KEEPALIVE_MS): AsyncGenerator<T> {
  const items = source[Symbol.asyncIterator]();
  // Each next() is raced against the idle timer; if the stream is dropped before it settles,
  // its rejection must not go unhandled.
  const pull = () => {
    const p = items.next();
    p.catch(() => {});
    return p;
  };
  let next = pull();
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<'idle'>((resolve) => (timer = setTimeout(() => resolve('idle'), everyMs)));
      const r = await Promise.race([next, idle]).finally(() => clearTimeout(timer));
      if (r === 'idle') {
        yield keepalive();
        continue;
      }
      if (r.done) return;
      next = pull();
      yield r.value;
    }
  } finally {
    void items.return?.()?.catch(() => {});
  }
}
