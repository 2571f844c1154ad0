// CodeService: stateful Python runs, streamed runs, background Python jobs, runs in all of a
// client's sandboxes, and the executions kept for later (GetExecution, GetExecutionResult).
import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import {
  type CodeService,
  ErrorReason,
  type Executions,
  type ExecutionEvent,
  filterResult,
  ResultFormat,
  StreamPythonCodeResponseSchema,
  type StreamPythonCodeResponse,
  ToolkitError,
} from '@e2b-toolkit/core';
import { tenantOf } from '../auth.js';
import { clientId, durationMs, jobMessage } from '../convert.js';
import { codeOf } from '../errors.js';
import { withKeepalives } from '../keepalive.js';

export function codeService(executions: Executions): ServiceImpl<typeof CodeService> {
  return {
    async runPythonCode(req, ctx) {
      const execution = await executions.run(
        tenantOf(ctx),
        { sandboxId: req.sandboxId, clientId: clientId(req.clientId), code: req.code, timeoutMs: durationMs('timeout', req.timeout), envs: req.envs },
        // The signal also fires when the call completes; by then the run has ended.
        { signal: ctx.signal, deadlineMs: ctx.timeoutMs() },
      );
      return { execution: withFormats(execution, formats(req.resultFormats)) };
    },

    async *streamPythonCode(req, ctx) {
      const wanted = formats(req.resultFormats);
      const queue = new Queue<StreamPythonCodeResponse>();
      const onEvent = (e: ExecutionEvent) => {
        queue.push(event(e.case === 'result' ? { case: 'result', value: filterResult(e.value, wanted) } : e));
      };
      void executions
        .run(
          tenantOf(ctx),
          { sandboxId: req.sandboxId, clientId: clientId(req.clientId), code: req.code, timeoutMs: durationMs('timeout', req.timeout), envs: req.envs },
          {
            signal: ctx.signal,
            deadlineMs: ctx.timeoutMs(),
            onStarted: (x) => queue.push(event({ case: 'started', value: { executionId: x.executionId, sandboxId: x.sandboxId } })),
            onEvent,
          },
        )
        .then(
          (x) => queue.end(event({ case: 'ended', value: { status: x.status, executionCount: x.executionCount } })),
          (err: unknown) => queue.fail(err),
        );
      yield* withKeepalives(queue, () => event({ case: 'keepalive', value: {} }));
    },

    async startPythonCode(req, ctx) {
      const job = await executions.startJob(tenantOf(ctx), clientId(req.clientId), {
        sandboxId: req.sandboxId,
        code: req.code,
        jobId: req.jobId,
        requestId: req.requestId,
        timeoutMs: durationMs('timeout', req.timeout),
        envs: req.envs,
        newKernel: req.newKernel,
      });
      return { job: jobMessage(job) };
    },

    async runPythonCodeInAllSandboxes(req, ctx) {
      const wanted = formats(req.resultFormats);
      const outcomes = await executions.runInAll(
        tenantOf(ctx),
        clientId(req.clientId),
        { code: req.code, timeoutMs: durationMs('timeout_each', req.timeoutEach) },
        ctx.signal,
      );
      return {
        outcomes: outcomes.map(({ sandboxId, execution, error }) => ({
          sandboxId,
          outcome: execution
            ? { case: 'execution' as const, value: withFormats(execution, wanted) }
            : {
                case: 'error' as const,
                value: {
                  code: codeOf(error),
                  reason: error instanceof ToolkitError ? error.reason : ErrorReason.UNSPECIFIED,
                  message: error?.message ?? '',
                  metadata: error instanceof ToolkitError ? error.metadata : {},
                },
              },
        })),
      };
    },

    async getExecution(req, ctx) {
      const ref = { executionId: req.executionId, sandboxId: req.sandboxId, clientId: clientId(req.clientId) };
      return { execution: executions.get(tenantOf(ctx), ref, formats(req.resultFormats)) };
    },

    async getExecutionResult(req, ctx) {
      const ref = { executionId: req.executionId, sandboxId: req.sandboxId, clientId: clientId(req.clientId) };
      return executions.getResult(tenantOf(ctx), ref, req.resultIndex, formats(req.formats));
    },
  };
}

/** The requested formats, without UNSPECIFIED. */
function formats(list: ResultFormat[]): ResultFormat[] {
  return list.filter((f) => f !== ResultFormat.UNSPECIFIED);
}

function withFormats<T extends { results: Parameters<typeof filterResult>[0][] }>(execution: T, wanted: ResultFormat[]): T {
  if (wanted.length) execution.results = execution.results.map((r) => filterResult(r, wanted));
  return execution;
}

function event(
  e: StreamPythonCodeResponse['event'] extends infer E ? (E extends { case: infer C; value: infer V } ? { case: C; value: V extends object ? Partial<V> : V } : never) : never,
): StreamPythonCodeResponse {
  return create(StreamPythonCodeResponseSchema, { event: e as never });
}

/** An unbounded queue read by one consumer; ends with a last item or an error. */
class Queue<T> implements AsyncIterator<T> {
  readonly #items: T[] = [];
  #done = false;
  #error: { err: unknown } | undefined;
  #wake: (() => void) | undefined;

  push(item: T): void {
    if (this.#done) return;
    this.#items.push(item);
    this.#wake?.();
  }

  end(last: T): void {
    this.push(last);
    this.#done = true;
    this.#wake?.();
  }

  fail(err: unknown): void {
    if (this.#done) return;
    this.#error = { err };
    this.#done = true;
    this.#wake?.();
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this;
  }

  /** The next item; rejects once the items before an error have been read. */
  async next(): Promise<IteratorResult<T>> {
    for (;;) {
      if (this.#items.length) return { done: false, value: this.#items.shift()! };
      if (this.#error) throw this.#error.err;
      if (this.#done) return { done: true, value: undefined };
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }
}
