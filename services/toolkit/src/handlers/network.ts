// NetworkService: public URLs of sandbox ports, and servers run as background jobs.
import type { ServiceImpl } from '@connectrpc/connect';
import type { Network, NetworkService } from '@e2b-toolkit/core';
import { tenantOf } from '../auth.js';
import { clientId, durationMs, jobMessage } from '../convert.js';

export function networkService(network: Network): ServiceImpl<typeof NetworkService> {
  return {
    async getPublicUrl(req, ctx) {
      return network.publicUrl(
        tenantOf(ctx),
        { sandboxId: req.sandboxId, clientId: clientId(req.clientId), port: req.port, waitMs: durationMs('wait', req.wait) },
        ctx.signal,
      );
    },
    async runServer(req, ctx) {
      const res = await network.runServer(
        tenantOf(ctx),
        clientId(req.clientId),
        {
          sandboxId: req.sandboxId,
          command: req.command,
          port: req.port,
          waitMs: durationMs('wait', req.wait),
          cwd: req.cwd,
          envs: req.envs,
          jobId: req.jobId,
          requestId: req.requestId,
        },
        ctx.signal,
      );
      return { url: res.url, ready: res.ready, job: jobMessage(res.job) };
    },
  };
}
