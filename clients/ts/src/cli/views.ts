// The JSON shapes and the human lines of the API's messages, shared by the commands.
import { jobInfo, sandboxInfo, type JobInfo, type SandboxInfo } from '../toolkit.js';
import { ResultFormat, type Result } from '../gen/e2b_toolkit/v1/execution_pb.js';
import type { Job } from '../gen/e2b_toolkit/v1/job_pb.js';
import { fields } from './output.js';

export { jobInfo, sandboxInfo, type JobInfo, type SandboxInfo };

export function metadataText(metadata: Record<string, string>): string {
  return Object.entries(metadata)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export function sandboxLines(s: SandboxInfo): string[] {
  return fields([
    ['sandbox', s.sandbox_id],
    ['state', s.state],
    ['template', s.template],
    ['created', s.create_time],
    ['expires', s.expire_time],
    ['cpus', s.cpu_count || undefined],
    ['memory', s.memory_mib ? `${s.memory_mib} MiB` : undefined],
    ['metadata', metadataText(s.metadata)],
  ]);
}

export function jobLines(job: Job): string[] {
  const j = jobInfo(job);
  return fields([
    ['job', j.job_id],
    ['status', j.status],
    ['exit code', j.exit_code],
    ['error', j.error],
    ['kind', j.kind],
    ['sandbox', j.sandbox_id],
    ['command', j.command],
    ['code', j.code ? firstLine(j.code) : undefined],
    ['execution', j.execution_id],
    ['created', j.create_time],
    ['started', j.start_time],
    ['ended', j.end_time],
    ['stdout', `${j.stdout_bytes} bytes`],
    ['stderr', `${j.stderr_bytes} bytes`],
  ]);
}

export function firstLine(text: string, max = 60): string {
  const line = text.split('\n', 1)[0];
  const short = line.length > max ? `${line.slice(0, max - 1)}…` : line;
  return short + (text.includes('\n') && short === line ? ' …' : '');
}

/** "png, chart, text": the formats of a result, by their ResultFormat names. */
export function formatNames(r: Result): string[] {
  return r.formats.map((f) => (ResultFormat[f] ?? String(f)).toLowerCase());
}
