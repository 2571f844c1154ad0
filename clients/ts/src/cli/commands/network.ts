// e2b-toolkit url PORT
import type { Command } from 'commander';
import { durationOf, parsePort, parseSeconds } from '../arguments.js';
import { action } from '../context.js';

export function registerNetworkCommands(program: Command): void {
  program
    .command('url')
    .description('print the public URL of a port of the sandbox')
    .argument('<port>', 'the port a server in the sandbox listens on', parsePort)
    .option('-w, --wait <seconds>', 'first wait up to this long for the port to accept connections (fails if it does not)', parseSeconds)
    .action(
      action(async (ctx, [port], opts: { wait?: number }) => {
        const sandboxId = ctx.sandboxId();
        const res = await ctx.clients.network.getPublicUrl({ sandboxId, clientId: ctx.clientId, port: port as number, wait: durationOf(opts.wait) });
        ctx.out.result({ status: 'success', sandbox_id: sandboxId, port, url: res.url, host: res.host }, res.url);
      }),
    );
}
