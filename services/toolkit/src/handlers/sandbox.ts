// SandboxService: sandboxes of the caller's API key, through the core's SandboxManager.
import type { ServiceImpl } from '@connectrpc/connect';
import { ErrorReason, type SandboxManager, SandboxService } from '@e2b-toolkit/core';
import { tenantOf } from '../auth.js';
import { clientId, durationMs, page, sandboxMessage, sandboxStateName } from '../convert.js';
import { codeOf } from '../errors.js';
import { InvalidArgumentError, ToolkitError } from '@e2b-toolkit/core';

export function sandboxService(manager: SandboxManager): ServiceImpl<typeof SandboxService> {
  return {
    async createSandbox(req, ctx) {
      if (req.requestId.length > 64) throw new InvalidArgumentError('request_id', 'must be at most 64 characters');
      const view = await manager.create(tenantOf(ctx), clientId(req.clientId), {
        timeoutMs: durationMs('timeout', req.timeout, Infinity),
        metadata: req.metadata,
        envs: req.envs,
        template: req.template,
        setAsDefault: req.setAsDefault,
        requestId: req.requestId || undefined,
      });
      return { sandbox: sandboxMessage(view) };
    },
    async connectSandbox(req, ctx) {
      const view = await manager.connect(tenantOf(ctx), clientId(req.clientId), req.sandboxId, {
        timeoutMs: durationMs('timeout', req.timeout, Infinity),
        setAsDefault: req.setAsDefault,
      });
      return { sandbox: sandboxMessage(view) };
    },
    async getSandbox(req, ctx) {
      return { sandbox: sandboxMessage(await manager.get(tenantOf(ctx), clientId(req.clientId), req.sandboxId)) };
    },
    async listSandboxes(req, ctx) {
      const states = req.states.map(sandboxStateName).filter((s) => s !== undefined);
      const all = await manager.list(tenantOf(ctx), clientId(req.clientId), { allClients: req.allClients, metadata: req.metadata, states });
      const { items, nextPageToken } = page(all, req.pageSize, req.pageToken);
      return { sandboxes: items.map(sandboxMessage), nextPageToken };
    },
    async setSandboxTimeout(req, ctx) {
      const timeoutMs = durationMs('timeout', req.timeout, Infinity);
      if (timeoutMs === undefined) throw new InvalidArgumentError('timeout', 'is required');
      return { sandbox: sandboxMessage(await manager.setTimeout(tenantOf(ctx), clientId(req.clientId), req.sandboxId, timeoutMs)) };
    },
    async shutdownSandbox(req, ctx) {
      return { sandboxId: await manager.shutdown(tenantOf(ctx), clientId(req.clientId), req.sandboxId) };
    },
    async shutdownAllSandboxes(req, ctx) {
      const results = await manager.shutdownAll(tenantOf(ctx), clientId(req.clientId));
      return {
        outcomes: results.map(({ sandboxId, error }) => ({
          sandboxId,
          error: error && {
            code: codeOf(error),
            reason: error instanceof ToolkitError ? error.reason : ErrorReason.UNSPECIFIED,
            message: error.message,
            metadata: error instanceof ToolkitError ? error.metadata : {},
          },
        })),
      };
    },
  };
}
