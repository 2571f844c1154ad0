// A byte progress bar for uploads and downloads, drawn on stderr for people only.
import cliProgress from 'cli-progress';
import { humanBytes } from './output.js';

export interface ByteProgress {
  /** Sets the total once it is known (downloads learn it from the first message). */
  setTotal(total: number): void;
  advance(bytes: number): void;
  stop(): void;
}

const silent: ByteProgress = { setTotal() {}, advance() {}, stop() {} };

/**
 * `mode` is the command's --progress / --no-progress (undefined: decide). By default the bar is
 * drawn only when stderr is a terminal and the output is not --json: in a pipe or a log file a
 * bar is noise. --progress forces it (then redrawn at most once a second off a terminal).
 */
export function byteProgress(label: string, options: { json: boolean; mode?: boolean }): ByteProgress {
  const show = options.mode ?? (!options.json && process.stderr.isTTY === true);
  if (!show) return silent;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% {done} / {size}`,
      hideCursor: true,
      noTTYOutput: !process.stderr.isTTY,
      notTTYSchedule: 1000,
      formatValue: (v, _o, type) => (type === 'percentage' ? String(v).padStart(3) : String(v)),
    },
    cliProgress.Presets.shades_classic,
  );
  let total = 0;
  let done = 0;
  let started = false;
  const payload = () => ({ done: humanBytes(done), size: total ? humanBytes(total) : '?' });
  const start = () => {
    if (!started) bar.start(Math.max(total, 1), 0, payload());
    started = true;
  };
  return {
    setTotal(t) {
      total = t;
      start();
      bar.setTotal(Math.max(t, 1));
    },
    advance(bytes) {
      start();
      done += bytes;
      bar.update(total ? done : 0, payload());
    },
    stop() {
      if (!started) return;
      if (total === 0) bar.update(1, payload()); // an empty file is complete, not stuck at 0%
      bar.stop();
    },
  };
}
