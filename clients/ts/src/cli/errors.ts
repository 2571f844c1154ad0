// One way to turn anything that went wrong into the CLI's one-line message, its code and an exit status.
import { Code, ConnectError } from '@connectrpc/connect';
import { codeName, reasonOf } from '../errors.js';

/** Exit statuses of the CLI (exec and logs -f exit with the command's own code instead). */
export const EXIT = {
  ok: 0,
  /** The server refused or failed the request, a local file could not be read or written... */
  failure: 1,
  /** Bad command line: unknown option, missing argument, no sandbox selected. */
  usage: 2,
  /** Stopped by Ctrl-C (128 + SIGINT), as a shell reports it. */
  interrupted: 130,
} as const;

/**
 * A remote process's exit code as this process's exit status. Codes outside 0-255 (a server that
 * reports -1 for a killed process) become 1 rather than wrapping around to look like another code.
 */
export function exitStatusOf(code: number): number {
  return Number.isInteger(code) && code >= 0 && code <= 255 ? code : EXIT.failure;
}

/** An error the CLI itself detected, with the code shown in parentheses. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly exitCode: number = EXIT.failure,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export interface ErrorDescription {
  message: string;
  /** gRPC code in snake_case ("not_found"), a Node errno in lower case ("enoent"), or a CLI code ("usage"). */
  code: string;
  /** The server's ErrorReason name, when it sent one ("SANDBOX_NOT_FOUND"). */
  reason?: string;
  exitCode: number;
}

/** Node's system errors (fs, net) carry an errno name such as ENOENT. */
function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) ? code : undefined;
}

/** Describes a failure; serverUrl makes "cannot reach the server" messages name the address tried. */
export function describeError(err: unknown, serverUrl?: string): ErrorDescription {
  if (err instanceof CliError) return { message: err.message, code: err.code, exitCode: err.exitCode };
  if (err instanceof ConnectError) {
    const reason = reasonOf(err);
    const cause = errnoOf(err.cause);
    // A transport failure (nothing listening, DNS, reset) says so, rather than only "ECONNREFUSED".
    const message = err.code === Code.Unavailable && cause && serverUrl ? `cannot reach the toolkit server at ${serverUrl}: ${err.rawMessage}` : err.rawMessage;
    return { message, code: codeName(err.code), ...(reason ? { reason } : {}), exitCode: EXIT.failure };
  }
  const errno = errnoOf(err);
  if (errno) return { message: (err as Error).message, code: errno.toLowerCase(), exitCode: EXIT.failure };
  return { message: err instanceof Error ? err.message : String(err), code: 'internal', exitCode: EXIT.failure };
}

/** "no such file or directory" for ENOENT and the like: a local file error in words, without Node's prefix. */
export function fileError(err: unknown, what: string): CliError {
  const errno = errnoOf(err);
  if (!errno) return err instanceof CliError ? err : new CliError(`${what}: ${err instanceof Error ? err.message : String(err)}`, 'internal');
  const text = (err as Error).message.replace(/^E[A-Z]+: /, '').replace(/, \w+ '.*'$/, '');
  return new CliError(`${what}: ${text}`, errno.toLowerCase());
}
