// e2b-toolkit run-python FILE|-   (streams the run as it happens: StreamPythonCode)
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { resultDict } from '../../toolkit.js';
import { ExecutionStatus, type ExecutionError, type Result } from '../../gen/e2b_toolkit/v1/execution_pb.js';
import { collectPair, durationOf, parseSeconds } from '../arguments.js';
import { action, type CliContext } from '../context.js';
import { EXIT, fileError } from '../errors.js';
import { INTERRUPTED, interruptible } from '../interrupt.js';
import { readInput, writeBytesAtomically } from '../local-files.js';
import { formatNames } from '../views.js';

interface RunPythonOptions {
  timeout?: number;
  env?: Record<string, string>;
  saveResults?: string;
}

export function registerPythonCommands(program: Command): void {
  program
    .command('run-python')
    .description('run Python code from FILE (or stdin for "-") in the sandbox\'s kernel, streaming its output')
    .argument('<file>', 'a Python file, or "-" to read the code from stdin')
    .option('-t, --timeout <seconds>', 'interrupt the code after this long (default: the server\'s, 60 s)', parseSeconds)
    .option('-e, --env <key=value>', 'environment variable for this run (repeatable)', collectPair)
    .option('-o, --save-results <dir>', 'save PNG results as DIR/<execution id>_<index>.png')
    .addHelpText(
      'after',
      `
The code's stdout and stderr are printed as it writes them; the value of the last expression
goes to stdout; a line per rich result (formats, saved file) goes to stderr. The kernel keeps
its state between runs. Exit status: 0, 1 when the code raised (traceback on stderr) or the run
failed, 130 when interrupted by Ctrl-C (which interrupts the code).`,
    )
    .action(action(async (ctx, [file], opts: RunPythonOptions) => runPython(ctx, file as string, opts)));
}

async function runPython(ctx: CliContext, file: string, opts: RunPythonOptions): Promise<number> {
  const sandboxId = ctx.sandboxId();
  const code = await readInput(file);
  if (opts.saveResults) await ensureDirectory(opts.saveResults);

  const json = ctx.out.json;
  const collected = { stdout: '', stderr: '', results: [] as Record<string, unknown>[] };
  let executionId = '';
  let resultCount = 0;
  let executionCount = 0;
  let status = ExecutionStatus.UNSPECIFIED as ExecutionStatus; // set by the stream, in the closure
  let error: ExecutionError | undefined;
  const done = await interruptible(async (signal) => {
    const stream = ctx.clients.code.streamPythonCode(
      { sandboxId, clientId: ctx.clientId, code, timeout: durationOf(opts.timeout), envs: opts.env ?? {} },
      { signal },
    );
    for await (const res of stream) {
      const e = res.event;
      switch (e.case) {
        case 'started':
          executionId = e.value.executionId;
          break;
        case 'stdout':
          if (json) collected.stdout += e.value;
          else process.stdout.write(e.value);
          break;
        case 'stderr':
          if (json) collected.stderr += e.value;
          else process.stderr.write(e.value);
          break;
        case 'result': {
          const index = resultCount++;
          const saved = opts.saveResults && e.value.png ? await savePng(opts.saveResults, executionId, index, e.value.png) : undefined;
          if (json) collected.results.push({ index, formats: formatNames(e.value), ...resultDict(e.value), ...(saved ? { saved_path: saved } : {}) });
          else showResult(e.value, index, saved);
          break;
        }
        case 'error':
          error = e.value;
          if (!json) process.stderr.write(tracebackText(e.value));
          break;
        case 'ended':
          status = e.value.status;
          executionCount = e.value.executionCount;
          break;
      }
    }
  });
  if (done === INTERRUPTED) return EXIT.interrupted;

  const failed = status !== ExecutionStatus.SUCCEEDED || error !== undefined;
  ctx.out.result(
    {
      status: failed ? 'error' : 'success',
      execution_id: executionId,
      sandbox_id: sandboxId,
      execution_count: executionCount,
      stdout: collected.stdout,
      stderr: collected.stderr,
      results: collected.results,
      ...(error ? { error: { name: error.name, value: error.value, traceback: error.traceback } } : {}),
    },
    undefined,
  );
  return failed ? EXIT.failure : EXIT.ok;
}

/** The last expression's value on stdout, as a REPL shows it; a summary of every result on stderr. */
function showResult(r: Result, index: number, saved: string | undefined): void {
  if (r.isMainResult && r.text !== undefined) process.stdout.write(`${r.text}\n`);
  // A plain value (text only) has been shown in full; richer results get a summary line.
  if (r.isMainResult && r.formats.length === 1 && r.text !== undefined) return;
  const chart = r.chart?.type ? ` (${String(r.chart.type)} chart)` : '';
  const where = saved ? ` -> saved ${saved}` : r.png ? ' (use --save-results DIR to save the PNG)' : '';
  process.stderr.write(`[result ${index}] ${formatNames(r).join(', ')}${chart}${where}\n`);
}

function tracebackText(e: ExecutionError): string {
  const text = e.traceback || `${e.name}: ${e.value}`;
  // IPython colours its tracebacks; keep the colours for a terminal only.
  const shown = process.stderr.isTTY ? text : text.replace(/\x1b\[[0-9;]*m/g, '');
  return shown.endsWith('\n') ? shown : `${shown}\n`;
}

async function ensureDirectory(dir: string): Promise<void> {
  try {
    await fs.promises.mkdir(dir, { recursive: true });
  } catch (err) {
    throw fileError(err, `cannot create ${dir}`);
  }
}

async function savePng(dir: string, executionId: string, index: number, png: Uint8Array): Promise<string> {
  const dest = path.resolve(dir, `${executionId}_${index}.png`);
  await writeBytesAtomically(dest, png);
  return dest;
}
