// Signals a process and every descendant, including ones that left its process group
// (setsid, double fork). The tree is found through /proc (the agent lives in the
// sandbox's PID namespace, so it sees exactly the sandbox's processes). For SIGKILL the
// tree is first frozen with SIGSTOP, so nothing can fork or be re-parented while it is
// being walked.
import fs from 'node:fs';

function readParents(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const name of fs.readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    // The command name may contain spaces and parentheses: parse after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(rest[1]);
    const list = children.get(ppid) ?? [];
    list.push(pid);
    children.set(ppid, list);
  }
  return children;
}

export function descendants(root: number): number[] {
  const children = readParents();
  const out: number[] = [];
  const stack = [root];
  while (stack.length) {
    const p = stack.pop()!;
    for (const c of children.get(p) ?? []) {
      out.push(c);
      stack.push(c);
    }
  }
  return out;
}

function trySignal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

export function signalTree(root: number, sig: NodeJS.Signals): void {
  if (sig !== 'SIGKILL') {
    for (const p of [root, ...descendants(root)]) trySignal(p, sig);
    trySignal(-root, sig);
    return;
  }
  const frozen = new Set<number>();
  for (let round = 0; round < 20; round++) {
    const found = [root, ...descendants(root)].filter((p) => !frozen.has(p));
    if (found.length === 0) break;
    for (const p of found) {
      trySignal(p, 'SIGSTOP');
      frozen.add(p);
    }
  }
  trySignal(-root, 'SIGKILL');
  for (const p of frozen) trySignal(p, 'SIGKILL');
}
