// e2b-toolkit sandbox create | list | info | connect | kill
import type { Command } from 'commander';
import { codeName } from '../../errors.js';
import { collectPair, durationOf, parseSeconds } from '../arguments.js';
import { action, type CliContext } from '../context.js';
import { CliError, EXIT } from '../errors.js';
import { table } from '../output.js';
import { metadataText, sandboxLines, sandboxInfo } from '../views.js';

export function registerSandboxCommands(program: Command): void {
  const sandbox = program.command('sandbox').description('create, list, inspect and shut down sandboxes');

  sandbox
    .command('create')
    .description('create a sandbox and print its id')
    .option('-t, --timeout <seconds>', 'shut it down after this long (default: the server\'s, 300 s)', parseSeconds)
    .option('-m, --metadata <key=value>', 'attach metadata (repeatable)', collectPair)
    .option('-e, --env <key=value>', 'environment variable for every command and Python run (repeatable)', collectPair)
    .option('--template <name>', 'template to create it from (default: the server\'s)')
    .addHelpText('after', '\nUse it in the next commands:\n  export E2B_TOOLKIT_SANDBOX=$(e2b-toolkit sandbox create)')
    .action(
      action(async (ctx, _args, opts: { timeout?: number; metadata?: Record<string, string>; env?: Record<string, string>; template?: string }) => {
        const res = await ctx.clients.sandboxes.createSandbox({
          clientId: ctx.clientId,
          timeout: durationOf(opts.timeout),
          metadata: opts.metadata ?? {},
          envs: opts.env ?? {},
          template: opts.template ?? '',
          requestId: crypto.randomUUID(),
        });
        const view = sandboxInfo(res.sandbox!);
        ctx.out.result({ status: 'success', ...view }, view.sandbox_id);
      }),
    );

  sandbox
    .command('list')
    .alias('ls')
    .description('list the sandboxes this CLI manages (those it created or connected to, for this API key)')
    .option('-a, --all', 'every sandbox of the API key, whichever client created it')
    .option('-m, --metadata <key=value>', 'only sandboxes with this metadata (repeatable)', collectPair)
    .action(
      action(async (ctx, _args, opts: { all?: boolean; metadata?: Record<string, string> }) => {
        const sandboxes = [];
        let pageToken = '';
        do {
          const res = await ctx.clients.sandboxes.listSandboxes({ clientId: ctx.clientId, allClients: opts.all ?? false, metadata: opts.metadata ?? {}, pageToken, pageSize: 1000 });
          sandboxes.push(...res.sandboxes.map(sandboxInfo));
          pageToken = res.nextPageToken;
        } while (pageToken);
        const rows = sandboxes.map((s) => [s.sandbox_id, s.state, s.create_time ?? '', s.expire_time ?? '', metadataText(s.metadata)]);
        ctx.out.result({ status: 'success', count: sandboxes.length, sandboxes }, sandboxes.length ? table(['SANDBOX', 'STATE', 'CREATED', 'EXPIRES', 'METADATA'], rows) : undefined);
      }),
    );

  sandbox
    .command('info')
    .description('show a sandbox\'s state, expiry and metadata')
    .argument('[id]', 'the sandbox (default: --sandbox / E2B_TOOLKIT_SANDBOX)')
    .action(
      action(async (ctx, [id]) => {
        const res = await ctx.clients.sandboxes.getSandbox({ sandboxId: ctx.sandboxId(id as string | undefined), clientId: ctx.clientId });
        const view = sandboxInfo(res.sandbox!);
        ctx.out.result({ status: 'success', ...view }, sandboxLines(view));
      }),
    );

  sandbox
    .command('connect')
    .description('add an existing sandbox of the API key (created by another client) to the sandboxes this CLI manages')
    .argument('[id]', 'the sandbox (default: --sandbox / E2B_TOOLKIT_SANDBOX)')
    .option('-t, --timeout <seconds>', 'also set its timeout, from now', parseSeconds)
    .action(
      action(async (ctx, [id], opts: { timeout?: number }) => {
        const res = await ctx.clients.sandboxes.connectSandbox({ sandboxId: ctx.sandboxId(id as string | undefined), clientId: ctx.clientId, timeout: durationOf(opts.timeout) });
        const view = sandboxInfo(res.sandbox!);
        ctx.out.result({ status: 'success', ...view }, view.sandbox_id);
      }),
    );

  sandbox
    .command('timeout')
    .description('set when a sandbox is shut down: SECONDS from now')
    .argument('<seconds>', 'the new timeout', parseSeconds)
    .argument('[id]', 'the sandbox (default: --sandbox / E2B_TOOLKIT_SANDBOX)')
    .action(
      action(async (ctx, [timeout, id]) => {
        const res = await ctx.clients.sandboxes.setSandboxTimeout({ sandboxId: ctx.sandboxId(id as string | undefined), clientId: ctx.clientId, timeout: durationOf(timeout as number) });
        const view = sandboxInfo(res.sandbox!);
        ctx.out.result({ status: 'success', ...view }, view.expire_time ?? '');
      }),
    );

  sandbox
    .command('kill')
    .alias('rm')
    .description('shut down a sandbox (its running jobs end as cancelled)')
    .argument('[id]', 'the sandbox (default: --sandbox / E2B_TOOLKIT_SANDBOX)')
    .option('-a, --all', 'shut down every sandbox this CLI manages (those "sandbox list" shows)')
    .action(
      action(async (ctx, [id], opts: { all?: boolean }) => {
        if (opts.all) return killAll(ctx, id as string | undefined);
        const res = await ctx.clients.sandboxes.shutdownSandbox({ sandboxId: ctx.sandboxId(id as string | undefined), clientId: ctx.clientId });
        ctx.out.result({ status: 'success', sandbox_id: res.sandboxId }, res.sandboxId);
      }),
    );
}

async function killAll(ctx: CliContext, id: string | undefined): Promise<number> {
  if (id) throw new CliError('give a sandbox id or --all, not both', 'usage', EXIT.usage);
  const res = await ctx.clients.sandboxes.shutdownAllSandboxes({ clientId: ctx.clientId });
  const outcomes = res.outcomes.map((o) => ({ sandbox_id: o.sandboxId, ...(o.error ? { error: o.error.message, code: codeName(o.error.code) } : {}) }));
  const failed = outcomes.filter((o) => 'error' in o);
  ctx.out.result(
    { status: failed.length ? 'error' : 'success', count: outcomes.length, outcomes },
    outcomes.map((o) => ('error' in o ? `${o.sandbox_id}  failed: ${o.error}` : o.sandbox_id)),
  );
  return failed.length ? EXIT.failure : EXIT.ok;
}
