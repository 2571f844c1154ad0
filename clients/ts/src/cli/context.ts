// What every command needs: the settings from flags and environment, the clients, the output.
import type { Command } from 'commander';
import { createToolkitClients, type ToolkitClients, type ToolkitProtocol } from '../clients.js';
import { CliError, EXIT } from './errors.js';
import { Output } from './output.js';

export const DEFAULT_URL = 'http://127.0.0.1:50051';

/**
 * The client_id the CLI sends when none is given. Clients are scoped by API key on the server
 * (see SandboxService in the protos), so one fixed name is already "one stable client per key":
 * every invocation with the same key sees the same managed sandboxes in `sandbox list`, and
 * another key never meets them.
 */
export const DEFAULT_CLIENT_ID = 'e2b-toolkit-cli';

/** The program's global options, after commander has applied flags, environment and defaults. */
export interface GlobalOptions {
  url: string;
  apiKey?: string;
  protocol: ToolkitProtocol;
  sandbox?: string;
  clientId: string;
  json?: boolean;
}

export class CliContext {
  readonly out: Output;
  private cached?: ToolkitClients;

  constructor(readonly options: GlobalOptions) {
    this.out = new Output(options.json === true);
  }

  static of(command: Command): CliContext {
    return new CliContext(command.optsWithGlobals<GlobalOptions>());
  }

  get clients(): ToolkitClients {
    this.cached ??= createToolkitClients({
      baseUrl: this.options.url,
      apiKey: this.options.apiKey || undefined,
      protocol: this.options.protocol,
      clientId: this.options.clientId,
    });
    return this.cached;
  }

  get clientId(): string {
    return this.options.clientId;
  }

  /**
   * The sandbox a command acts on: the one named on its command line, else --sandbox, else
   * E2B_TOOLKIT_SANDBOX. The CLI never falls back to a server-side default sandbox: a command
   * that silently picked (or created) some sandbox would be a surprise in a script.
   */
  sandboxId(named?: string): string {
    const id = named || this.options.sandbox;
    if (!id) {
      throw new CliError('no sandbox selected: pass --sandbox ID or set E2B_TOOLKIT_SANDBOX (create one with "e2b-toolkit sandbox create")', 'no_sandbox', EXIT.usage);
    }
    return id;
  }
}

/**
 * Wraps a command's handler for commander: builds the context, hands over the positional
 * arguments and the command's own options, and takes the handler's return value as the exit
 * status. Errors propagate to main, which prints them.
 */
export function action<O>(handler: (ctx: CliContext, args: unknown[], opts: O) => Promise<number | void>) {
  return async (...all: unknown[]): Promise<void> => {
    const command = all[all.length - 1] as Command;
    const opts = all[all.length - 2] as O;
    process.exitCode = (await handler(CliContext.of(command), all.slice(0, -2), opts)) ?? EXIT.ok;
  };
}
