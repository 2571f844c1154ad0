// e2b-toolkit job start | python | status | kill | list, and e2b-toolkit logs [-f] JOB
import type { Command } from 'commander';
import { JobStatus, type Job } from '../../gen/e2b_toolkit/v1/job_pb.js';
import { collectPair, durationOf, parseByteCount, parseSeconds } from '../arguments.js';
import { action, type CliContext } from '../context.js';
import { CliError, EXIT, exitStatusOf } from '../errors.js';
import { INTERRUPTED, interruptible } from '../interrupt.js';
import { readInput } from '../local-files.js';
import { table } from '../output.js';
import { firstLine, jobInfo, jobLines } from '../views.js';

interface StartOptions {
  id?: string;
  cwd?: string;
  env?: Record<string, string>;
  timeout?: number;
}

const STATUS_NAMES: Record<string, JobStatus> = { running: JobStatus.RUNNING, done: JobStatus.DONE, error: JobStatus.ERROR, cancelled: JobStatus.CANCELLED };

export function registerJobCommands(program: Command): void {
  const job = program.command('job').description('start, watch and stop background jobs (they run on the server, apart from the CLI)');

  job
    .command('start')
    .description('start a shell command as a background job and print the job id')
    .argument('<command...>', 'the command, run by bash (quote it, or put it after --)')
    .option('--id <job-id>', 'the id to give the job (default: one the server makes up)')
    .option('-C, --cwd <dir>', 'working directory (default: /home/user)')
    .option('-e, --env <key=value>', 'environment variable (repeatable)', collectPair)
    .option('-t, --timeout <seconds>', 'kill the job after this long (default: no limit; it ends with its sandbox)', parseSeconds)
    .action(
      action(async (ctx, [words], opts: StartOptions) => {
        const command = (words as string[]).join(' ');
        if (!command.trim()) throw new CliError('the command is empty', 'usage', EXIT.usage);
        const res = await ctx.clients.commands.startCommand({
          sandboxId: ctx.sandboxId(),
          clientId: ctx.clientId,
          command,
          jobId: opts.id ?? '',
          cwd: opts.cwd ?? '',
          envs: opts.env ?? {},
          timeout: durationOf(opts.timeout),
          requestId: crypto.randomUUID(),
        });
        ctx.out.result(jobInfo(res.job!), res.job!.jobId);
      }),
    );

  job
    .command('python')
    .description('start Python code from FILE (or stdin for "-") as a background job and print the job id')
    .argument('<file>', 'a Python file, or "-" for stdin')
    .option('--id <job-id>', 'the id to give the job (default: one the server makes up)')
    .option('-e, --env <key=value>', 'environment variable (repeatable)', collectPair)
    .option('-t, --timeout <seconds>', 'interrupt the code after this long (default: no limit)', parseSeconds)
    .option('--new-kernel', 'run in a fresh kernel of its own instead of the sandbox\'s shared one')
    .action(
      action(async (ctx, [file], opts: StartOptions & { newKernel?: boolean }) => {
        const sandboxId = ctx.sandboxId();
        const code = await readInput(file as string);
        const res = await ctx.clients.code.startPythonCode({
          sandboxId,
          clientId: ctx.clientId,
          code,
          jobId: opts.id ?? '',
          envs: opts.env ?? {},
          timeout: durationOf(opts.timeout),
          newKernel: opts.newKernel ?? false,
          requestId: crypto.randomUUID(),
        });
        ctx.out.result(jobInfo(res.job!), res.job!.jobId);
      }),
    );

  job
    .command('status')
    .description('show a job\'s status (running, done, error, cancelled), exit code and times')
    .argument('<job-id>')
    .action(
      action(async (ctx, [jobId]) => {
        const res = await ctx.clients.jobs.getJob({ jobId: jobId as string });
        ctx.out.result(jobInfo(res.job!), jobLines(res.job!));
      }),
    );

  job
    .command('kill')
    .description('kill a running job (its whole process tree) and wait until it has ended')
    .argument('<job-id>')
    .action(
      action(async (ctx, [jobId]) => {
        const res = await ctx.clients.jobs.killJob({ jobId: jobId as string });
        ctx.out.result(jobInfo(res.job!), `${res.job!.jobId} ${jobInfo(res.job!).status}`);
      }),
    );

  job
    .command('delete')
    .alias('rm')
    .description('delete a job and its recorded output now (a running one only with --kill)')
    .argument('<job-id>')
    .option('--kill', 'kill the job first if it is still running')
    .action(
      action(async (ctx, [jobId], opts: { kill?: boolean }) => {
        const res = await ctx.clients.jobs.deleteJob({ jobId: jobId as string, kill: opts.kill ?? false });
        ctx.out.result(jobInfo(res.job!), `${res.job!.jobId} deleted (${jobInfo(res.job!).status})`);
      }),
    );

  job
    .command('list')
    .alias('ls')
    .description('list the jobs of the API key, newest first (only the selected sandbox\'s when one is selected)')
    .option('--status <status>', 'only jobs with this status: running, done, error or cancelled')
    .option('-a, --all-sandboxes', 'jobs of every sandbox, even when a sandbox is selected')
    .action(
      action(async (ctx, _args, opts: { status?: string; allSandboxes?: boolean }) => {
        const status = opts.status === undefined ? undefined : STATUS_NAMES[opts.status];
        if (opts.status !== undefined && status === undefined) {
          throw new CliError(`unknown status "${opts.status}": use running, done, error or cancelled`, 'usage', EXIT.usage);
        }
        const sandboxId = opts.allSandboxes ? '' : (ctx.options.sandbox ?? '');
        const jobs: Job[] = [];
        let pageToken = '';
        do {
          const res = await ctx.clients.jobs.listJobs({ sandboxId, statuses: status ? [status] : [], pageToken, pageSize: 1000 });
          jobs.push(...res.jobs);
          pageToken = res.nextPageToken;
        } while (pageToken);
        const views = jobs.map(jobInfo);
        const rows = views.map((j) => [j.job_id, j.status, j.exit_code === undefined ? '' : String(j.exit_code), j.sandbox_id, firstLine(j.command ?? j.code ?? '')]);
        ctx.out.result({ status: 'success', count: views.length, jobs: views }, views.length ? table(['JOB', 'STATUS', 'EXIT', 'SANDBOX', 'COMMAND'], rows) : undefined);
      }),
    );

  program
    .command('logs')
    .description('print a job\'s stdout (to stdout) and stderr (to stderr); with -f, follow it until it ends')
    .argument('<job-id>')
    .option('-f, --follow', 'keep printing live output until the job ends (Ctrl-C stops following, not the job)')
    .option('--last <bytes>', 'start with the last BYTES of each stream instead of the beginning', parseByteCount)
    .addHelpText(
      'after',
      `
Exit status: 0; with -f, the job's own exit code once it has ended (a Python job: 0 when it
succeeded, 1 otherwise), or 130 when Ctrl-C stopped following. With --json, one JSON object
per line: {"type":"started","job":…}, {"type":"stdout"|"stderr","text":…,"offset":…},
{"type":"ended","job":…}.`,
    )
    .action(action(async (ctx, [jobId], opts: { follow?: boolean; last?: number }) => logs(ctx, jobId as string, opts)));
}

async function logs(ctx: CliContext, jobId: string, opts: { follow?: boolean; last?: number }): Promise<number> {
  const offset = BigInt(opts.last === undefined ? 0 : -opts.last);
  const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  let ended: Job | undefined;
  const done = await interruptible(async (signal) => {
    const stream = ctx.clients.jobs.tailJobLogs({ jobId, stdoutOffset: offset, stderrOffset: offset, snapshot: !opts.follow }, { signal });
    for await (const res of stream) {
      const e = res.event;
      switch (e.case) {
        case 'started':
          if (ctx.out.json) ctx.out.jsonLine({ type: 'started', job: jobInfo(e.value.job!), stdout_offset: e.value.stdoutOffset, stderr_offset: e.value.stderrOffset });
          break;
        case 'stdout':
        case 'stderr':
          if (ctx.out.json) ctx.out.jsonLine({ type: e.case, text: decoders[e.case].decode(e.value.data, { stream: true }), offset: e.value.offset });
          else (e.case === 'stdout' ? process.stdout : process.stderr).write(e.value.data);
          break;
        case 'ended':
          ended = e.value.job;
          if (ctx.out.json) ctx.out.jsonLine({ type: 'ended', job: jobInfo(e.value.job!) });
          break;
      }
    }
  });
  if (done === INTERRUPTED) return EXIT.interrupted;
  return opts.follow && ended ? jobExitStatus(ended) : EXIT.ok;
}

/** What `logs -f` exits with once the job has ended. */
function jobExitStatus(job: Job): number {
  if (job.exitCode !== undefined) return exitStatusOf(job.exitCode);
  return job.status === JobStatus.DONE ? EXIT.ok : EXIT.failure;
}
