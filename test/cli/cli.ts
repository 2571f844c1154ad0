// Runs the e2b-toolkit CLI (clients/ts/bin/e2b-toolkit.js, built) as a child process against a
// toolkit server in the test process. Always asynchronous: a synchronous spawn would block the
// event loop that serves the CLI's requests.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ToolkitServer } from '../../services/toolkit/src/server.js';
import { startTestServer } from '../support/toolkit.js';

export const BIN = fileURLToPath(new URL('../../clients/ts/bin/e2b-toolkit.js', import.meta.url));

/** The keys the test servers accept. */
export const KEY = 'cli-key-a';
export const OTHER_KEY = 'cli-key-b';

/** A real server with API keys required, so that a wrong key is refused. */
export function startServer(name: string): Promise<ToolkitServer> {
  return startTestServer(`cli-${name}`, {
    localRuntime: { warmPoolSize: 2 },
    apiKeys: new Set([KEY, OTHER_KEY]),
  });
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Environment on top of the test's (E2B_TOOLKIT_* of the test process are dropped). */
  env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed. */
  input?: string | Buffer;
  cwd?: string;
}

export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once the stream has printed `text` (rejects if the CLI exits first). */
  waitFor(stream: 'stdout' | 'stderr', text: string): Promise<void>;
  exited: Promise<CliResult>;
}

/** Settings that point the CLI at `server` with KEY; override or unset any of them with `env`. */
export function cliEnv(server: ToolkitServer, env: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { E2B_TOOLKIT_URL: server.url, E2B_TOOLKIT_API_KEY: KEY, ...env };
}

export function spawnCli(args: string[], options: CliOptions = {}): CliProcess {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('E2B_TOOLKIT_')) env[k] = v;
  for (const [k, v] of Object.entries(options.env ?? {})) if (v !== undefined) env[k] = v;
  const child = spawn(process.execPath, [BIN, ...args], { env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  const waiters: { stream: 'stdout' | 'stderr'; text: string; resolve: () => void; reject: (e: Error) => void }[] = [];
  const check = () => {
    for (const w of [...waiters]) {
      if (out[w.stream].includes(w.text)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out.stdout += d;
    check();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    out.stderr += d;
    check();
  });
  const exited = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      for (const w of waiters.splice(0)) w.reject(new Error(`the CLI exited (${code}) before printing ${JSON.stringify(w.text)} on ${w.stream}; stdout: ${out.stdout}; stderr: ${out.stderr}`));
      resolve({ code, signal, ...out });
    });
  });
  child.stdin!.on('error', () => {}); // a CLI that exits without reading stdin
  if (options.input !== undefined) child.stdin!.end(options.input);
  else child.stdin!.end();
  return {
    child,
    stdout: () => out.stdout,
    stderr: () => out.stderr,
    waitFor: (stream, text) =>
      new Promise<void>((resolve, reject) => {
        waiters.push({ stream, text, resolve, reject });
        check();
      }),
    exited,
  };
}

/** Runs the CLI to its end. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return spawnCli(args, options).exited;
}

/** The CLI's stdout as one JSON document (for --json). */
export function jsonOf<T = Record<string, any>>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${r.code}): ${r.stdout}\nstderr: ${r.stderr}`);
  }
}

/** Every line of stdout as JSON (logs --json). */
export function jsonLinesOf(r: CliResult): Record<string, any>[] {
  return r.stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, any>);
}

/** The error line format: exactly one line, "e2b-toolkit: <what> (<code>)", no stack trace. */
export const ERROR_LINE = /^e2b-toolkit: .+ \(([a-z_]+)\)\n$/;

export function errorCodeOf(r: CliResult): string | undefined {
  return ERROR_LINE.exec(r.stderr)?.[1];
}
