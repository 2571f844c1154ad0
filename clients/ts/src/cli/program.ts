// The command line: global options (with their environment variables) and the commands.
import fs from 'node:fs';
import { Command, Option } from 'commander';
import { registerExecCommand } from './commands/exec.js';
import { registerFileCommands } from './commands/files.js';
import { registerJobCommands } from './commands/jobs.js';
import { registerNetworkCommands } from './commands/network.js';
import { registerPythonCommands } from './commands/python.js';
import { registerSandboxCommands } from './commands/sandbox.js';
import { DEFAULT_CLIENT_ID, DEFAULT_URL } from './context.js';

function packageVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function buildProgram(): Command {
  const program = new Command('e2b-toolkit')
    // Usage errors are thrown to main, which prints them in the CLI's one-line format; set
    // before the commands are added, so that they inherit it.
    .exitOverride()
    .configureOutput({ outputError: () => {} })
    .description('Command line for an e2b-toolkit server: sandboxes, Python, commands, background jobs, files and ports.')
    .version(packageVersion(), '-V, --version')
    .addOption(new Option('--url <url>', 'the toolkit server').env('E2B_TOOLKIT_URL').default(DEFAULT_URL))
    .addOption(new Option('--api-key <key>', 'API key, sent as "Authorization: Bearer <key>" (prefer the environment variable: flags show in ps)').env('E2B_TOOLKIT_API_KEY'))
    .addOption(new Option('--protocol <protocol>', 'wire protocol').choices(['connect', 'grpc', 'grpc-web']).env('E2B_TOOLKIT_PROTOCOL').default('connect'))
    .addOption(new Option('-s, --sandbox <id>', 'the sandbox commands act on').env('E2B_TOOLKIT_SANDBOX'))
    .addOption(new Option('--client-id <id>', 'the client id the CLI uses on the server (decides what "sandbox list" shows)').env('E2B_TOOLKIT_CLIENT_ID').default(DEFAULT_CLIENT_ID))
    .option('--json', 'print one JSON document (logs: one per line) on stdout instead of text, for scripts')
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      `
Exit status: 0 on success; 1 when the server or a local file operation failed; 2 for a bad
command line (also when no sandbox is selected); 130 after Ctrl-C. "exec" and "logs -f" exit
with the command's own exit code. Errors are one line on stderr: "e2b-toolkit: <what> (<code>)".

Quick start:
  export E2B_TOOLKIT_SANDBOX=$(e2b-toolkit sandbox create)
  echo 'print(6 * 7)' | e2b-toolkit run-python -
  e2b-toolkit exec 'uname -a'
  job=$(e2b-toolkit job start 'for i in 1 2 3; do echo $i; sleep 1; done')
  e2b-toolkit logs -f "$job"
  e2b-toolkit sandbox kill "$E2B_TOOLKIT_SANDBOX"`,
    );

  registerSandboxCommands(program);
  registerPythonCommands(program);
  registerExecCommand(program);
  registerJobCommands(program);
  registerFileCommands(program);
  registerNetworkCommands(program);
  return program;
}
