// CodeService end to end: a real toolkit server with an embedded local runtime, Python run
// in real sandboxes through the code interpreter, called over Connect and gRPC.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Code, createClient, type Transport } from '@connectrpc/connect';
import { CodeService, ErrorReason, ExecutionStatus, JobService, JobStatus, JobKind, ResultFormat, SandboxService } from '@e2b-toolkit/core';
import type { ToolkitServer } from '../../services/toolkit/src/server.js';
import { toolkitTransport, type Protocol, codeOf, startTestServer } from '../support/toolkit.js';

let server: ToolkitServer;

function transport(protocol: Protocol, key = 'key-a'): Transport {
  return toolkitTransport(server.url, protocol, key);
}

function clients(protocol: Protocol = 'connect', key?: string) {
  const t = transport(protocol, key);
  return { sandboxes: createClient(SandboxService, t), code: createClient(CodeService, t), jobs: createClient(JobService, t) };
}


const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const CLIENT = 'coder';
let sandboxId: string;

beforeAll(async () => {
  server = await startTestServer('code-test', {
    localRuntime: { warmPoolSize: 1 },
    code: { globalWorkers: 1 },
  });
  const res = await clients().sandboxes.createSandbox({ clientId: CLIENT, setAsDefault: true });
  sandboxId = res.sandbox!.sandboxId;
});

afterAll(async () => {
  await server?.close();
});

describe('RunPythonCode', () => {
  it('keeps state across runs and returns output and the last value', async () => {
    const { code } = clients('grpc');
    const first = await code.runPythonCode({ clientId: CLIENT, code: 'x = 40\nprint("set")' });
    expect(first.execution?.status).toBe(ExecutionStatus.SUCCEEDED);
    expect(first.execution?.stdout).toBe('set\n');
    expect(first.execution?.sandboxId).toBe(sandboxId);
    const second = await code.runPythonCode({ sandboxId, code: 'import sys\nprint("oops", file=sys.stderr)\nx + 2' });
    const ex = second.execution!;
    expect(ex.status).toBe(ExecutionStatus.SUCCEEDED);
    expect(ex.stderr).toBe('oops\n');
    expect(ex.results).toHaveLength(1);
    expect(ex.results[0].isMainResult).toBe(true);
    expect(ex.results[0].text).toBe('42');
    expect(ex.results[0].formats).toContain(ResultFormat.TEXT);
    expect(ex.executionCount).toBeGreaterThan(first.execution!.executionCount);
    expect(ex.endTime).toBeDefined();
    // Kept on the server.
    const again = await code.getExecution({ executionId: ex.executionId });
    expect(again.execution?.results[0].text).toBe('42');
    const latest = await code.getExecution({ clientId: CLIENT });
    expect(latest.execution?.executionId).toBe(ex.executionId);
  });

  it('returns a matplotlib figure as PNG bytes and chart data, also later by index', async () => {
    const { code } = clients();
    const { execution } = await code.runPythonCode({
      clientId: CLIENT,
      code: ['import matplotlib.pyplot as plt', 'plt.plot([1, 2, 3], [4, 5, 6])', 'plt.title("t")', 'plt.show()'].join('\n'),
    });
    expect(execution?.status).toBe(ExecutionStatus.SUCCEEDED);
    const fig = execution!.results[0];
    expect(fig.isMainResult).toBe(false);
    expect([...fig.png!.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    expect(fig.formats).toEqual(expect.arrayContaining([ResultFormat.PNG, ResultFormat.CHART]));

    const png = await code.getExecutionResult({ executionId: execution!.executionId, resultIndex: 0, formats: [ResultFormat.PNG] });
    expect(png.executionId).toBe(execution!.executionId);
    expect(Buffer.from(png.result!.png!).equals(Buffer.from(fig.png!))).toBe(true);
    expect(png.result!.chart).toBeUndefined();
    expect(png.result!.text).toBeUndefined();

    // Empty execution id: the sandbox's latest run (download_chart_data).
    const chart = await code.getExecutionResult({ clientId: CLIENT, resultIndex: 0, formats: [ResultFormat.CHART] });
    expect(chart.result!.png).toBeUndefined();
    expect(chart.result!.chart).toMatchObject({ type: 'line', title: 't' });

    expect(await codeOf(code.getExecutionResult({ executionId: execution!.executionId, resultIndex: 5 }))).toBe(Code.NotFound);
    expect(await codeOf(code.getExecutionResult({ executionId: execution!.executionId, resultIndex: 0, formats: [ResultFormat.PDF] }))).toBe(Code.NotFound);
    expect(await codeOf(code.getExecutionResult({ executionId: execution!.executionId, resultIndex: -1 }))).toBe(Code.InvalidArgument);

    // A format filter on the run leaves the rest on the server.
    const filtered = await code.runPythonCode({ clientId: CLIENT, code: 'plt.plot([1, 2]); plt.show()', resultFormats: [ResultFormat.CHART] });
    expect(filtered.execution!.results[0].png).toBeUndefined();
    expect(filtered.execution!.results[0].formats).toContain(ResultFormat.PNG);
    const later = await code.getExecution({ executionId: filtered.execution!.executionId });
    expect([...later.execution!.results[0].png!.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
  });

  it('returns DataFrame data', async () => {
    const { execution } = await clients('grpc').code.runPythonCode({
      clientId: CLIENT,
      code: 'import pandas as pd\npd.DataFrame({"a": [1, 2], "b": ["x", "y"]})',
    });
    const df = execution!.results[0];
    expect(df.html).toContain('<table');
    expect(df.formats).toContain(ResultFormat.DATA);
    const data = df.data as Record<string, unknown>;
    expect(Object.keys(data)).toEqual(expect.arrayContaining(['a', 'b']));
    expect(JSON.stringify(data)).toContain('"x"');
  });

  it('reports a Python exception as a FAILED execution, not an RPC error', async () => {
    const { execution } = await clients().code.runPythonCode({ clientId: CLIENT, code: 'print("before")\n1 / 0' });
    expect(execution?.status).toBe(ExecutionStatus.FAILED);
    expect(execution?.stdout).toBe('before\n');
    expect(execution?.error?.name).toBe('ZeroDivisionError');
    expect(execution?.error?.value).toContain('division by zero');
    expect(execution?.error?.traceback).toContain('ZeroDivisionError');
  });

  it('fails a run past its timeout with DEADLINE_EXCEEDED, and the kernel lives on', async () => {
    const { code } = clients('grpc');
    const started = Date.now();
    expect(await codeOf(code.runPythonCode({ clientId: CLIENT, code: 'import time\ntime.sleep(30)', timeout: { seconds: 1n } }))).toBe(Code.DeadlineExceeded);
    expect(Date.now() - started).toBeLessThan(15_000);
    const latest = await code.getExecution({ clientId: CLIENT });
    expect(latest.execution?.status).toBe(ExecutionStatus.FAILED);
    expect(latest.execution?.errorReason).toBe(ErrorReason.EXECUTION_TIMED_OUT);
    const { execution } = await code.runPythonCode({ clientId: CLIENT, code: 'x' });
    expect(execution?.results[0].text).toBe('40');
  });

  it("stops at the call's deadline with REQUEST_DEADLINE_EXCEEDED", async () => {
    const { code } = clients('grpc');
    expect(await codeOf(code.runPythonCode({ clientId: CLIENT, code: 'import time\ntime.sleep(30)' }, { timeoutMs: 1500 }))).toBe(Code.DeadlineExceeded);
    await expect.poll(async () => (await code.getExecution({ clientId: CLIENT })).execution?.errorReason, { timeout: 10_000 }).toBe(ErrorReason.REQUEST_DEADLINE_EXCEEDED);
    const { execution } = await code.runPythonCode({ clientId: CLIENT, code: 'x', timeout: { seconds: 5n } });
    expect(execution?.results[0].text).toBe('40');
  });

  it('rejects bad requests and unknown executions', async () => {
    const { code } = clients();
    expect(await codeOf(code.runPythonCode({ clientId: CLIENT, code: '' }))).toBe(Code.InvalidArgument);
    expect(await codeOf(code.streamPythonCode({ clientId: CLIENT, code: '  ' })[Symbol.asyncIterator]().next())).toBe(Code.InvalidArgument);
    expect(await codeOf(code.getExecution({ executionId: 'no-such-execution' }))).toBe(Code.NotFound);
    expect(await codeOf(code.getExecutionResult({ executionId: 'no-such-execution', resultIndex: 0 }))).toBe(Code.NotFound);
    // Executions belong to their API key.
    const mine = await code.runPythonCode({ clientId: CLIENT, code: '1' });
    expect(await codeOf(clients('connect', 'key-b').code.getExecution({ executionId: mine.execution!.executionId }))).toBe(Code.NotFound);
  });
});

describe('StreamPythonCode', () => {
  for (const protocol of ['grpc', 'connect'] as const) {
    it(`streams started, output in order, results and ended over ${protocol}`, async () => {
      const { code } = clients(protocol);
      const events: string[] = [];
      let executionId = '';
      for await (const res of code.streamPythonCode({
        clientId: CLIENT,
        code: 'import sys, time\nprint("one", flush=True)\ntime.sleep(0.2)\nprint("two", file=sys.stderr, flush=True)\ntime.sleep(0.2)\n6 * 7',
      })) {
        const e = res.event;
        if (e.case === 'started') {
          executionId = e.value.executionId;
          expect(e.value.sandboxId).toBe(sandboxId);
        }
        if (e.case === 'stdout' || e.case === 'stderr') events.push(`${e.case}:${e.value}`);
        else if (e.case === 'result') events.push(`result:${e.value.text}`);
        else if (e.case === 'ended') events.push(`ended:${ExecutionStatus[e.value.status]}`);
        else if (e.case !== 'keepalive') events.push(e.case!);
      }
      expect(events).toEqual(['started', 'stdout:one\n', 'stderr:two\n', 'result:42', 'ended:SUCCEEDED']);
      const { execution } = await code.getExecution({ executionId });
      expect(execution?.stdout).toBe('one\n');
    });
  }

  it('streams the error before ended', async () => {
    const cases: string[] = [];
    for await (const res of clients('grpc').code.streamPythonCode({ clientId: CLIENT, code: 'raise ValueError("bad")' })) {
      cases.push(res.event.case === 'ended' ? `ended:${ExecutionStatus[res.event.value.status]}` : res.event.case!);
    }
    expect(cases).toEqual(['started', 'error', 'ended:FAILED']);
  });

  it('interrupts the code when the client cancels', async () => {
    const { code } = clients('grpc');
    const abort = new AbortController();
    let executionId = '';
    const read = (async () => {
      for await (const res of code.streamPythonCode({ clientId: CLIENT, code: 'import time\nfor i in range(100):\n    print(i, flush=True)\n    time.sleep(0.1)' }, { signal: abort.signal })) {
        if (res.event.case === 'started') executionId = res.event.value.executionId;
        if (res.event.case === 'stdout') abort.abort();
      }
    })();
    expect(await codeOf(read)).toBe(Code.Canceled);
    await expect
      .poll(async () => (await code.getExecution({ executionId })).execution?.status, { timeout: 10_000 })
      .toBe(ExecutionStatus.CANCELLED);
    // The kernel is free again at once.
    const { execution } = await code.runPythonCode({ clientId: CLIENT, code: '7 * 6', timeout: { seconds: 5n } });
    expect(execution?.results[0].text).toBe('42');
  });
});

describe('StartPythonCode', () => {
  it('runs code as a PYTHON job with its output in the job log and results in its execution', async () => {
    const { code, jobs } = clients();
    const { job } = await code.startPythonCode({ clientId: CLIENT, code: 'print("in job")\n20 + 1', jobId: 'py-1' });
    expect(job?.kind).toBe(JobKind.PYTHON);
    expect(job?.status).toBe(JobStatus.RUNNING);
    expect(job?.executionId).not.toBe('');
    await expect.poll(async () => (await jobs.getJob({ jobId: 'py-1' })).job?.status, { timeout: 20_000 }).toBe(JobStatus.DONE);
    const done = (await jobs.getJob({ jobId: 'py-1' })).job!;
    expect(done.stdoutBytes).toBe(BigInt('in job\n'.length));
    const { execution } = await code.getExecution({ executionId: job!.executionId });
    expect(execution?.jobId).toBe('py-1');
    expect(execution?.results[0].text).toBe('21');
    expect(await codeOf(code.startPythonCode({ clientId: CLIENT, code: '1', jobId: 'py-1' }))).toBe(Code.AlreadyExists);
  });

  it('is interrupted by KillJob', async () => {
    const { code, jobs } = clients('grpc');
    const { job } = await code.startPythonCode({ clientId: CLIENT, code: 'import time\ntime.sleep(60)' });
    await new Promise((r) => setTimeout(r, 500));
    const killed = await jobs.killJob({ jobId: job!.jobId });
    expect(killed.job?.status).toBe(JobStatus.CANCELLED);
    const { execution } = await code.getExecution({ executionId: job!.executionId });
    expect(execution?.status).toBe(ExecutionStatus.CANCELLED);
    const after = await code.runPythonCode({ clientId: CLIENT, code: '3 * 3', timeout: { seconds: 5n } });
    expect(after.execution?.results[0].text).toBe('9');
  });

  it('ends as ERROR with a Python exception', async () => {
    const { code, jobs } = clients();
    const { job } = await code.startPythonCode({ clientId: CLIENT, code: '1 / 0' });
    await expect.poll(async () => (await jobs.getJob({ jobId: job!.jobId })).job?.status, { timeout: 20_000 }).toBe(JobStatus.ERROR);
    expect((await jobs.getJob({ jobId: job!.jobId })).job?.error).toContain('ZeroDivisionError');
  });
});

describe('RunPythonCodeInAllSandboxes', () => {
  it('runs in every managed sandbox, at most globalWorkers (1) at a time', async () => {
    const { sandboxes, code } = clients();
    const client = 'fleet';
    const ids = await Promise.all([0, 1, 2].map(async () => (await sandboxes.createSandbox({ clientId: client })).sandbox!.sandboxId));
    try {
      const { outcomes } = await code.runPythonCodeInAllSandboxes({
        clientId: client,
        code: 'import time\nt0 = time.time()\ntime.sleep(0.3)\nprint(t0, time.time())',
      });
      expect(outcomes.map((o) => o.sandboxId).sort()).toEqual([...ids].sort());
      const spans = outcomes.map((o) => {
        expect(o.outcome.case).toBe('execution');
        const ex = o.outcome.value as { stdout: string; status: ExecutionStatus };
        expect(ex.status).toBe(ExecutionStatus.SUCCEEDED);
        const [start, end] = ex.stdout.trim().split(' ').map(Number);
        return { start, end };
      });
      spans.sort((a, b) => a.start - b.start);
      for (let i = 1; i < spans.length; i++) expect(spans[i].start).toBeGreaterThanOrEqual(spans[i - 1].end);
    } finally {
      await sandboxes.shutdownAllSandboxes({ clientId: client });
    }
  });

  it('reports a sandbox that cannot run as an error outcome', async () => {
    const { sandboxes, code } = clients();
    const client = 'fleet-2';
    const a = (await sandboxes.createSandbox({ clientId: client })).sandbox!.sandboxId;
    try {
      const { outcomes } = await code.runPythonCodeInAllSandboxes({ clientId: client, code: 'import time\ntime.sleep(5)', timeoutEach: { seconds: 1n } });
      expect(outcomes).toHaveLength(1);
      expect(outcomes[0].sandboxId).toBe(a);
      expect(outcomes[0].outcome.case).toBe('error');
      expect(outcomes[0].outcome.value).toMatchObject({ code: Code.DeadlineExceeded });
    } finally {
      await sandboxes.shutdownAllSandboxes({ clientId: client });
    }
  });
});
