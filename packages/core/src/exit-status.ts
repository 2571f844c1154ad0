// Exit codes as a shell reports them. envd ends a process killed by a signal with exit code
// -1 and Go's wording of the signal ("signal: killed"); the API reports 128 + the signal
// number instead (137 for SIGKILL), as shells and most tools do.
import os from 'node:os';

/** Go's os.Signal strings on Linux (syscall.signals), by signal number. */
const GO_SIGNAL_NUMBERS: Record<string, number> = {
  hangup: 1,
  interrupt: 2,
  quit: 3,
  'illegal instruction': 4,
  'trace/breakpoint trap': 5,
  aborted: 6,
  'bus error': 7,
  'floating point exception': 8,
  killed: 9,
  'user defined signal 1': 10,
  'segmentation fault': 11,
  'user defined signal 2': 12,
  'broken pipe': 13,
  'alarm clock': 14,
  terminated: 15,
};

/** The shell-style exit code of an ended process, from envd's exit code and status text. */
export function shellExitCode(exitCode: number, status: string | undefined): number {
  if (exitCode !== -1 || !status) return exitCode;
  const m = /^signal: (.+)$/.exec(status.trim());
  if (!m) return exitCode;
  const name = m[1];
  const n = GO_SIGNAL_NUMBERS[name] ?? os.constants.signals[name as NodeJS.Signals];
  return n === undefined ? exitCode : 128 + n;
}
