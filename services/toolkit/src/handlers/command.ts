// CommandService: foreground commands and background command jobs.
import type { ServiceImpl } from '@connectrpc/connect';
import { type CommandService, type Jobs } from '@e2b-toolkit/core';
import { tenantOf } from '../auth.js';
import { clientId, durationMs, jobMessage } from '../convert.js';

export function commandService(jobs: Jobs): ServiceImpl<typeof CommandService> {
  return {
    async runCommand(req, ctx) {
      const result = await jobs.runCommand(
        tenantOf(ctx),
        { sandboxId: req.sandboxId, clientId: clientId(req.clientId), command: req.command, cwd: req.cwd, envs: req.envs, timeoutMs: durationMs('timeout', req.timeout) },
        // The signal also fires when the call completes; by then the command has exited.
        ctx.signal,
      );
      return { ...result, stdoutBytes: BigInt(result.stdoutBytes), stderrBytes: BigInt(result.stderrBytes) };
    },
    async startCommand(req, ctx) {
      const job = await jobs.startCommand(tenantOf(ctx), clientId(req.clientId), {
        sandboxId: req.sandboxId,
        command: req.command,
        cwd: req.cwd,
        envs: req.envs,
        timeoutMs: durationMs('timeout', req.timeout),
        jobId: req.jobId,
        requestId: req.requestId,
      });
      return { job: jobMessage(job) };
    },
  };
}
