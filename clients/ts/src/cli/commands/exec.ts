// e2b-toolkit exec 'CMD'   (RunCommand: waits for the exit code and exits with it)
import type { Command } from 'commander';
import { collectPair, durationOf, parseSeconds } from '../arguments.js';
import { action } from '../context.js';
import { CliError, EXIT, exitStatusOf } from '../errors.js';
import { INTERRUPTED, interruptible } from '../interrupt.js';

interface ExecOptions {
  cwd?: string;
  env?: Record<string, string>;
  timeout?: number;
}

export function registerExecCommand(program: Command): void {
  program
    .command('exec')
    .description('run a shell command in the sandbox and exit with its exit code')
    .argument('<command...>', 'the command, run by bash (quote it, or put it after --)')
    .option('-C, --cwd <dir>', 'working directory (default: /home/user)')
    .option('-e, --env <key=value>', 'environment variable (repeatable)', collectPair)
    .option('-t, --timeout <seconds>', 'kill the command after this long (default: the server\'s, 60 s)', parseSeconds)
    .addHelpText(
      'after',
      `
Examples:
  e2b-toolkit exec 'ls -la /home/user'
  e2b-toolkit exec -- pip install requests
The command's stdout and stderr are printed when it has exited (for live output of a long
command, use "job start" and "logs -f"). Ctrl-C kills it.`,
    )
    .action(
      action(async (ctx, [words], opts: ExecOptions) => {
        const command = (words as string[]).join(' ');
        if (!command.trim()) throw new CliError('the command is empty', 'usage', EXIT.usage);
        const sandboxId = ctx.sandboxId();
        const res = await interruptible((signal) =>
          ctx.clients.commands.runCommand(
            { sandboxId, clientId: ctx.clientId, command, cwd: opts.cwd ?? '', envs: opts.env ?? {}, timeout: durationOf(opts.timeout) },
            { signal },
          ),
        );
        if (res === INTERRUPTED) return EXIT.interrupted;
        if (ctx.out.json) {
          ctx.out.result(
            {
              status: res.exitCode === 0 ? 'success' : 'error',
              sandbox_id: sandboxId,
              exit_code: res.exitCode,
              stdout: res.stdout,
              stderr: res.stderr,
              stdout_truncated: res.stdoutTruncated,
              stderr_truncated: res.stderrTruncated,
              stdout_bytes: Number(res.stdoutBytes),
              stderr_bytes: Number(res.stderrBytes),
            },
            undefined,
          );
        } else {
          process.stdout.write(res.stdout);
          process.stderr.write(res.stderr);
        }
        return exitStatusOf(res.exitCode);
      }),
    );
}
