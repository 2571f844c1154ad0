// How our server processes end: SIGINT or SIGTERM closes the server once (a second signal
// while closing is ignored), then the process exits 0, or 1 if closing failed.

/** Closes with `close` on SIGINT/SIGTERM, saying `what` is being stopped, then exits. */
export function stopOnSignals(what: string, close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping ${what}...\n`);
    close().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`shutdown failed: ${err?.message ?? err}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
