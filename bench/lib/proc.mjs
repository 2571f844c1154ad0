// Reading processes from /proc: the tree under a pid, RSS/PSS of each process, CPU
// ticks to tell when a tree has gone quiet, and resetting a process's peak RSS.
// The runtime's sandboxes are its descendants: runtime → bwrap (outer) → bwrap (the
// sandbox's PID-namespace init) → node agent → python3 kernel and user commands. The
// bench runs in the host PID namespace, so /proc shows all of them with host pids.
import fs from 'node:fs';

const KIB = 1024;

/** One /proc/<pid>/stat, or undefined when the process is gone. */
export function readStat(pid) {
  let text;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm may contain spaces and parentheses: it ends at the last ')'.
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const f = text.slice(close + 2).split(' ');
  // f[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
  return { pid: Number(pid), comm, ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
}

/** Every process now, by pid. */
export function allProcesses() {
  const procs = new Map();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(name);
    if (st) procs.set(st.pid, st);
  }
  return procs;
}

/** The processes below root (not root itself), following ppid links. */
export function descendants(root, procs = allProcesses()) {
  const children = new Map();
  for (const p of procs.values()) {
    if (!children.has(p.ppid)) children.set(p.ppid, []);
    children.get(p.ppid).push(p);
  }
  const out = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length) {
    const p = queue.shift();
    out.push(p);
    queue.push(...(children.get(p.pid) ?? []));
  }
  return out;
}

/** Each sandbox of a runtime: its outer bwrap (a direct child) and everything under it. */
export function sandboxTrees(runtimePid, procs = allProcesses()) {
  return [...procs.values()]
    .filter((p) => p.ppid === runtimePid && p.comm === 'bwrap')
    .map((root) => ({ root, procs: [root, ...descendants(root.pid, procs)] }));
}

export function cmdline(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

function kibField(text, name) {
  const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) * KIB : 0;
}

/** VmRSS and VmHWM (peak RSS since start or since resetPeak) in bytes. */
export function status(pid) {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return { rss: kibField(text, 'VmRSS'), hwm: kibField(text, 'VmHWM') };
  } catch {
    return { rss: 0, hwm: 0 };
  }
}

const FIELDS = { rss: 'Rss', pss: 'Pss', anon: 'Pss_Anon', file: 'Pss_File' };

/**
 * From smaps_rollup, in bytes: RSS; PSS (each shared page split among the processes that
 * map it); and PSS split into anonymous memory (heap, stacks: what the process really
 * costs) and file pages (binaries, libraries: page cache, shared and reclaimable).
 */
export function memory(pid) {
  const out = { rss: 0, pss: 0, anon: 0, file: 0 };
  try {
    const text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    for (const [k, field] of Object.entries(FIELDS)) out[k] = kibField(text, field);
  } catch {
    /* gone */
  }
  return out;
}

/** Sums memory() over processes, with a breakdown by command name. */
export function sumMemory(procs) {
  const zero = () => ({ rss: 0, pss: 0, anon: 0, file: 0, count: 0 });
  const total = zero();
  const byComm = {};
  for (const p of procs) {
    const m = memory(p.pid);
    const b = (byComm[p.comm] ??= zero());
    for (const k of Object.keys(FIELDS)) {
      total[k] += m[k];
      b[k] += m[k];
    }
    total.count++;
    b.count++;
  }
  return { ...total, byComm };
}

/** Resets the peak RSS (VmHWM) to the current RSS (needs root or the same user). */
export function resetPeak(pid) {
  fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

export function memAvailable() {
  return kibField(fs.readFileSync('/proc/meminfo', 'utf8'), 'MemAvailable');
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until a runtime has `sandboxes` sandboxes whose agent and Python kernel are up
 * and its whole tree has been quiet (≤ 2 CPU ticks, ~20 ms) for `quietMs`: a warm-pool
 * sandbox has then finished starting. Never waits less than minMs; gives up at maxMs
 * (returns false) rather than hanging the bench.
 */
export async function waitSettled(runtimePid, { sandboxes, quietMs = 300, minMs = 0, maxMs = 20_000, stepMs = 50 }) {
  const start = Date.now();
  const samples = [];
  for (;;) {
    const procs = allProcesses();
    const trees = sandboxTrees(runtimePid, procs);
    const ready = trees.filter(
      (t) => t.procs.some((p) => p.comm === 'node') && t.procs.some((p) => p.comm.startsWith('python')),
    ).length;
    const ticks = [procs.get(runtimePid), ...descendants(runtimePid, procs)].reduce((s, p) => s + (p?.ticks ?? 0), 0);
    const now = Date.now();
    samples.push({ now, ticks, ok: ready === sandboxes && trees.length === sandboxes });
    while (samples.length && samples[0].now < now - quietMs) samples.shift();
    const windowFull = now - start >= quietMs && samples.length > 1;
    const quiet = windowFull && samples.every((s) => s.ok) && ticks - samples[0].ticks <= 2;
    if (quiet && now - start >= minMs) return true;
    if (now - start > maxMs) return false;
    await sleep(stepMs);
  }
}
