// JobService: status, list, kill and live log tails of background jobs.
import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import { InvalidArgumentError, type JobService, type Jobs, TailJobLogsResponseSchema, type TailJobLogsResponse } from '@e2b-toolkit/core';
import { tenantOf } from '../auth.js';
import { jobMessage, page } from '../convert.js';
import { withKeepalives } from '../keepalive.js';

export function jobService(jobs: Jobs): ServiceImpl<typeof JobService> {
  return {
    async getJob(req, ctx) {
      return { job: jobMessage(jobs.getJob(tenantOf(ctx), req.jobId)) };
    },
    async listJobs(req, ctx) {
      const all = jobs.listJobs(tenantOf(ctx), { sandboxId: req.sandboxId, statuses: req.statuses, kind: req.kind });
      const { items, nextPageToken } = page(all, req.pageSize, req.pageToken);
      return { jobs: items.map(jobMessage), nextPageToken };
    },
    async killJob(req, ctx) {
      return { job: jobMessage(await jobs.killJob(tenantOf(ctx), req.jobId)) };
    },
    async deleteJob(req, ctx) {
      return { job: jobMessage(await jobs.deleteJob(tenantOf(ctx), req.jobId, req.kill)) };
    },
    async *tailJobLogs(req, ctx) {
      for (const [field, v] of [['stdout_offset', req.stdoutOffset], ['stderr_offset', req.stderrOffset]] as const) {
        if (!Number.isSafeInteger(Number(v))) throw new InvalidArgumentError(field, 'is out of range');
      }
      // Only the subscription is tied to the call: ending the tail leaves the job alone.
      const { job, tail, final } = jobs.tailJobLogs(tenantOf(ctx), req.jobId, {
        stdoutOffset: req.stdoutOffset,
        stderrOffset: req.stderrOffset,
        snapshot: req.snapshot,
        signal: ctx.signal,
      });
      yield event({ case: 'started', value: { job: jobMessage(job), stdoutOffset: BigInt(tail.stdoutOffset), stderrOffset: BigInt(tail.stderrOffset) } });
      const chunks = (async function* () {
        for await (const c of tail) {
          const chunk = { data: c.data, offset: BigInt(c.offset) };
          yield event(c.stream === 'stdout' ? { case: 'stdout', value: chunk } : { case: 'stderr', value: chunk });
        }
      })();
      yield* withKeepalives(chunks, () => event({ case: 'keepalive', value: {} }));
      if (ctx.signal.aborted) return;
      yield event({ case: 'ended', value: { job: jobMessage(await final()) } });
    },
  };
}

function event(e: TailJobLogsResponse['event'] extends infer E ? (E extends { case: infer C; value: infer V } ? { case: C; value: Partial<V> } : never) : never): TailJobLogsResponse {
  return create(TailJobLogsResponseSchema, { event: e as never });
}
