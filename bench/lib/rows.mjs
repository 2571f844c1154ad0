// Result rows, in one shape for the table and RESULTS.md:
//   { id, group, label, unit, n, p50, p90?, p99?, base?: { label, n?, p50, p90?, p99? }, target?: { op, value } }
// p99 is only there when a benchmark asks for it (latencyRow's withP99): a group whose rows
// have it gets p99 columns in the tables.
// For durations p50/p90 are percentiles of the samples. For throughput they are the
// throughput at the p50 and p90 durations (so p90 is the slower tail). For one-off values
// (memory) p50 is the value and there is no p90.
import { summarize } from './stats.mjs';

export function latencyRow(id, group, label, ms, base, target, { withP99 = false } = {}) {
  const s = summarize(ms);
  const pick = ({ n, p50, p90, p99 }) => ({ n, p50, p90, ...(withP99 ? { p99 } : {}) });
  return {
    id, group, label, unit: 'ms', ...pick(s),
    base: base ? { label: base.label, ...pick(summarize(base.ms)) } : undefined,
    target: target === undefined ? undefined : { op: '≤', value: target },
  };
}

/** MB/s (10^6 bytes per second) at the p50 and p90 durations. */
export function throughputRow(id, group, label, bytes, ms, base) {
  const rate = (t) => bytes / 1e6 / (t / 1000);
  const s = summarize(ms);
  const b = base && summarize(base.ms);
  return {
    id, group, label, unit: 'MB/s', n: s.n, p50: rate(s.p50), p90: rate(s.p90),
    base: base ? { label: base.label, n: b.n, p50: rate(b.p50), p90: rate(b.p90) } : undefined,
  };
}

export function valueRow(id, group, label, unit, value, base, target) {
  return {
    id, group, label, unit, n: 1, p50: value,
    base: base ? { label: base.label, n: base.n ?? 1, p50: base.value, p90: base.p90 } : undefined,
    target: target === undefined ? undefined : { op: '≤', value: target },
  };
}

export function verdict(row) {
  if (!row.target || !Number.isFinite(row.p50)) return '—';
  const ok = row.target.op === '≤' ? row.p50 <= row.target.value : row.p50 >= row.target.value;
  return ok ? 'met' : 'missed';
}
