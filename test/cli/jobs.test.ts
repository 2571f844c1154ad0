// e2b-toolkit job start | python | status | list | kill and logs [-f]: live tails, Ctrl-C that
// stops the tail and not the job, exit codes, --json lines.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolkitServer } from '../../services/toolkit/src/server.js';
import { cliEnv, errorCodeOf, jsonLinesOf, jsonOf, runCli, spawnCli, startServer } from './cli.js';

let server: ToolkitServer;
let env: Record<string, string | undefined>;
let sandboxId: string;

beforeAll(async () => {
  server = await startServer('jobs');
  sandboxId = (await runCli(['sandbox', 'create', '--timeout', '600'], { env: cliEnv(server) })).stdout.trim();
  env = cliEnv(server, { E2B_TOOLKIT_SANDBOX: sandboxId });
});

afterAll(async () => {
  if (env) await runCli(['sandbox', 'kill'], { env });
  await server?.close();
});

async function startJob(command: string, args: string[] = []): Promise<string> {
  const r = await runCli(['job', 'start', ...args, command], { env });
  expect(r).toMatchObject({ code: 0, stderr: '' });
  return r.stdout.trim();
}

async function statusOf(jobId: string): Promise<Record<string, any>> {
  return jsonOf(await runCli(['--json', 'job', 'status', jobId], { env }));
}

describe('e2b-toolkit job and logs', () => {
  it('starts a job, follows its logs to the end and exits with its exit code', async () => {
    const jobId = await startJob('for i in 1 2 3; do echo out$i; echo err$i >&2; done; exit 5', ['--id', 'counted-job']);
    expect(jobId).toBe('counted-job');

    const followed = await runCli(['logs', '-f', jobId], { env });
    expect(followed).toMatchObject({ code: 5, stdout: 'out1\nout2\nout3\n', stderr: 'err1\nerr2\nerr3\n' });

    // Without -f: what has been written, exit 0 whatever the job's code.
    expect(await runCli(['logs', jobId], { env })).toMatchObject({ code: 0, stdout: 'out1\nout2\nout3\n', stderr: 'err1\nerr2\nerr3\n' });
    expect(await runCli(['logs', '--last', '5', jobId], { env })).toMatchObject({ code: 0, stdout: 'out3\n', stderr: 'err3\n' });

    const lines = jsonLinesOf(await runCli(['--json', 'logs', jobId], { env }));
    expect(lines[0]).toMatchObject({ type: 'started', job: { job_id: jobId } });
    expect(lines.filter((l) => l.type === 'stdout').map((l) => l.text).join('')).toBe('out1\nout2\nout3\n');
    expect(lines.filter((l) => l.type === 'stderr').map((l) => l.text).join('')).toBe('err1\nerr2\nerr3\n');
    expect(lines.at(-1)).toMatchObject({ type: 'ended', job: { status: 'error', exit_code: 5 } });

    expect(await statusOf(jobId)).toMatchObject({ job_id: jobId, status: 'error', exit_code: 5, kind: 'command', sandbox_id: sandboxId });
    const human = await runCli(['job', 'status', jobId], { env });
    expect(human.stdout).toMatch(/^status\s+error$/m);
    expect(human.stdout).toMatch(/^exit code\s+5$/m);
  });

  it('logs -f prints live lines; Ctrl-C stops the tail (exit 130) while the job keeps running', async () => {
    // The job prints one line, then waits for a file that only the test creates.
    const jobId = await startJob('echo ready; while [ ! -e /tmp/release ]; do sleep 0.1; done; echo released');
    const tail = spawnCli(['logs', '-f', jobId], { env });
    await tail.waitFor('stdout', 'ready\n');
    tail.child.kill('SIGINT');
    const stopped = await tail.exited;
    expect(stopped).toMatchObject({ code: 130, stdout: 'ready\n', stderr: '' });
    expect(await statusOf(jobId)).toMatchObject({ status: 'running' });

    // A second tail sees the rest live, and ends with the job.
    const tail2 = spawnCli(['logs', '-f', jobId], { env });
    await tail2.waitFor('stdout', 'ready\n');
    expect((await runCli(['exec', 'touch /tmp/release'], { env })).code).toBe(0);
    expect(await tail2.exited).toMatchObject({ code: 0, stdout: 'ready\nreleased\n' });
    expect(await statusOf(jobId)).toMatchObject({ status: 'done', exit_code: 0 });
  });

  it('lists and kills jobs', async () => {
    const jobId = await startJob('sleep 300');
    const listed = jsonOf(await runCli(['--json', 'job', 'list', '--status', 'running'], { env }));
    expect(listed.jobs.map((j: { job_id: string }) => j.job_id)).toContain(jobId);
    const table = await runCli(['job', 'list'], { env });
    expect(table.stdout).toMatch(/^JOB\s+STATUS\s+EXIT\s+SANDBOX\s+COMMAND$/m);
    expect(table.stdout).toMatch(new RegExp(`^${jobId}\\s+running\\s+${sandboxId}\\s+sleep 300$`, 'm'));

    const killed = await runCli(['--json', 'job', 'kill', jobId], { env });
    expect(killed.code).toBe(0);
    expect(jsonOf(killed)).toMatchObject({ job_id: jobId, status: 'cancelled' });
    expect(await statusOf(jobId)).toMatchObject({ status: 'cancelled' });
    // A tail of a killed job ends at once with its status (137: killed by SIGKILL).
    const after = await runCli(['logs', '-f', jobId], { env });
    expect(after.code).toBe(137);

    const done = jsonOf(await runCli(['--json', 'job', 'list', '--status', 'cancelled'], { env }));
    expect(done.jobs.map((j: { job_id: string }) => j.job_id)).toContain(jobId);
    const bad = await runCli(['job', 'list', '--status', 'sleeping'], { env });
    expect(bad.code).toBe(2);

    // delete: a running job only with --kill; then it is gone.
    const running = await startJob('sleep 300');
    const refused = await runCli(['job', 'delete', running], { env });
    expect([refused.code, errorCodeOf(refused)]).toEqual([1, 'failed_precondition']);
    expect(jsonOf(await runCli(['--json', 'job', 'delete', '--kill', running], { env }))).toMatchObject({ job_id: running, status: 'cancelled' });
    expect(errorCodeOf(await runCli(['job', 'status', running], { env }))).toBe('not_found');
  });

  it('starts Python as a job from stdin', async () => {
    const r = await runCli(['--json', 'job', 'python', '-'], { env, input: 'import sys\nprint("py out")\nprint("py err", file=sys.stderr)\n' });
    expect(r.code).toBe(0);
    const job = jsonOf(r);
    expect(job).toMatchObject({ kind: 'python', sandbox_id: sandboxId });
    expect(await runCli(['logs', '-f', job.job_id], { env })).toMatchObject({ code: 0, stdout: 'py out\n', stderr: 'py err\n' });

    const failing = jsonOf(await runCli(['--json', 'job', 'python', '-'], { env, input: '1 / 0\n' }));
    const tail = await runCli(['logs', '-f', failing.job_id], { env });
    expect(tail.code).toBe(1);
  });

  it('reports unknown jobs as not_found', async () => {
    for (const args of [['job', 'status', 'no-such-job'], ['job', 'kill', 'no-such-job'], ['logs', 'no-such-job'], ['logs', '-f', 'no-such-job']]) {
      const r = await runCli(args, { env });
      expect(r.code, args.join(' ')).toBe(1);
      expect(errorCodeOf(r), args.join(' ')).toBe('not_found');
    }
  });
});
