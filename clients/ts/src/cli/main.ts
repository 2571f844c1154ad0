// The e2b-toolkit command (bin/e2b-toolkit.js imports this). Runs one command, prints any error
// as one line, and exits with the command's status.
import { CommanderError } from 'commander';
import { buildProgram } from './program.js';
import { describeError, EXIT } from './errors.js';
import { Output } from './output.js';

async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    const opts = program.opts<{ json?: boolean; url?: string }>();
    const out = new Output(opts.json === true);
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.ok;
      // A command group called without its subcommand: commander has printed its help on stderr.
      if (err.code === 'commander.help') return EXIT.usage;
      const message = err.message.replace(/^error: /, '').replace(/\s*\((Did you mean [^)]*)\)/, (_m, hint: string) => `; ${hint.toLowerCase()}`);
      out.error({ message, code: 'usage', exitCode: EXIT.usage });
      return EXIT.usage;
    }
    const description = describeError(err, opts.url);
    out.error(description);
    return description.exitCode;
  }
}

// A reader that went away (`e2b-toolkit logs JOB | head -1`) ends the command quietly, as in
// other Unix tools, rather than with an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => process.exit(err.code === 'EPIPE' ? EXIT.ok : EXIT.failure));
}

const status = await main(process.argv);
// Connections kept alive by the transport would hold the process open: exit explicitly once
// stdout has been flushed.
process.stdout.write('', () => process.exit(status));
