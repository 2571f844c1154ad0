// How long ended things are remembered (jobs with their output, executions, sandbox records)
// and the periodic sweep that forgets them. Each store also checks on access; the sweep only
// keeps memory from growing between accesses.

/** Default retention of ended jobs, executions and sandbox records: 1 hour. */
export const DEFAULT_RETENTION_MS = 3600_000;

/** How often expired records are swept: every minute, or a tenth of the retention if shorter. */
export function sweepIntervalMs(retentionMs: number): number | undefined {
  if (!Number.isFinite(retentionMs)) return undefined;
  return Math.max(10, Math.min(60_000, Math.floor(retentionMs / 10)));
}

/** Checks a retention option: a non-negative number of ms (Infinity allowed). */
export function checkRetention(name: string, ms: number | undefined, fallback: number): number {
  const value = ms ?? fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) throw new RangeError(`${name} must be a non-negative number of milliseconds, got ${ms}`);
  return value;
}

/** Runs `sweep` every sweepIntervalMs(retentionMs), without keeping the process alive; none for an infinite retention. */
export function sweepPeriodically(retentionMs: number, sweep: () => void): NodeJS.Timeout | undefined {
  const every = sweepIntervalMs(retentionMs);
  if (every === undefined) return undefined;
  const timer = setInterval(sweep, every);
  timer.unref();
  return timer;
}
