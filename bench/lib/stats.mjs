// Percentiles and small timing helpers.

/** The q-th quantile (0..1) with linear interpolation between order statistics. */
export function quantile(values, q) {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/** n, p50, p90 and p99 of a sample of durations (ms) or sizes. */
export function summarize(values) {
  return {
    n: values.length, p50: quantile(values, 0.5), p90: quantile(values, 0.9), p99: quantile(values, 0.99),
    min: Math.min(...values), max: Math.max(...values),
  };
}

/** Milliseconds fn takes (awaited), and what it returned. */
export async function timed(fn) {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const MiB = 2 ** 20;

/** Runs fn over items with at most `limit` in flight; results in item order. */
export async function mapLimit(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
