// Between the API's messages and the core's plain objects, with the edge's input checks.
import { create } from '@bufbuild/protobuf';
import { timestampFromDate, type Duration } from '@bufbuild/protobuf/wkt';
import { InvalidArgumentError, JobSchema, SandboxSchema, SandboxState, type Job, type JobView, type Sandbox, type SandboxView } from '@e2b-toolkit/core';

/** The longest timeout of a command, a code run or a job: a day, as a sandbox's default maximum life. */
export const MAX_RUN_TIMEOUT_MS = 24 * 3600 * 1000;

/**
 * A Duration field in milliseconds; undefined when unset. Rejects negative, malformed and
 * too long values (timers past 2^31 ms would fire at once, so every timeout needs a bound).
 */
export function durationMs(field: string, d: Duration | undefined, maxMs = MAX_RUN_TIMEOUT_MS): number | undefined {
  if (!d) return undefined;
  const ms = Number(d.seconds) * 1000 + d.nanos / 1e6;
  if (!Number.isFinite(ms) || d.nanos < -999_999_999 || d.nanos > 999_999_999 || (d.seconds > 0n && d.nanos < 0) || ms <= 0) {
    throw new InvalidArgumentError(field, 'must be a positive duration');
  }
  if (ms > maxMs) throw new InvalidArgumentError(field, `must be at most ${maxMs / 1000} seconds`);
  return ms;
}

const MAX_CLIENT_ID = 128;

export function clientId(value: string): string {
  if (value.length > MAX_CLIENT_ID) throw new InvalidArgumentError('client_id', `must be at most ${MAX_CLIENT_ID} characters`);
  return value;
}

export function pageSize(value: number): number {
  if (value < 0 || value > 1000) throw new InvalidArgumentError('page_size', 'must be between 0 and 1000');
  return value || 100;
}

/** Pages of an already-filtered list: the token is the offset of the next page. */
export function page<T>(items: T[], size: number, token: string): { items: T[]; nextPageToken: string } {
  let start = 0;
  if (token) {
    start = Number(Buffer.from(token, 'base64url').toString());
    if (!Number.isSafeInteger(start) || start < 0) throw new InvalidArgumentError('page_token', 'is not a token this server made');
  }
  const end = start + pageSize(size);
  return { items: items.slice(start, end), nextPageToken: end < items.length ? Buffer.from(String(end)).toString('base64url') : '' };
}

export function sandboxMessage(v: SandboxView): Sandbox {
  return create(SandboxSchema, {
    sandboxId: v.sandboxId,
    state: v.state === 'paused' ? SandboxState.PAUSED : SandboxState.RUNNING,
    template: v.template,
    metadata: v.metadata,
    createTime: timestampFromDate(v.createTime),
    expireTime: timestampFromDate(v.expireTime),
    isDefault: v.isDefault,
    cpuCount: v.cpuCount,
    memoryMib: v.memoryMib,
  });
}

export function sandboxStateName(s: SandboxState): 'running' | 'paused' | undefined {
  return s === SandboxState.RUNNING ? 'running' : s === SandboxState.PAUSED ? 'paused' : undefined;
}

export function jobMessage(v: JobView): Job {
  return create(JobSchema, {
    jobId: v.jobId,
    sandboxId: v.sandboxId,
    clientId: v.clientId,
    kind: v.kind,
    status: v.status,
    command: v.command,
    code: v.code ?? '',
    executionId: v.executionId ?? '',
    exitCode: v.exitCode,
    error: v.error,
    errorReason: v.errorReason,
    createTime: timestampFromDate(v.createTime),
    startTime: v.startTime && timestampFromDate(v.startTime),
    endTime: v.endTime && timestampFromDate(v.endTime),
    stdoutBytes: BigInt(v.stdoutBytes),
    stderrBytes: BigInt(v.stderrBytes),
  });
}
