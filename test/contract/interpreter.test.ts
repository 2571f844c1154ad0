// The code interpreter (wire protocol §4) through the unmodified @e2b/code-interpreter
// SDK: state across runs, main and display results, live and ordered output callbacks,
// errors, timeouts and interrupts, contexts (isolation, cwd, restart, removal), per-run
// and sandbox-wide env vars, kernel death and recovery, magics and shell output, bad
// inputs, queued runs on one context, and bash contexts. Result types and charts are in
// interpreter-charts.test.ts.
import { describe, expect, test } from 'vitest';
import { NotFoundError, Sandbox, SandboxError, TimeoutError, type Context } from '@e2b/code-interpreter';
import { useRuntime, useSandbox } from '../support/runtime.js';

const h = useRuntime();
let sbx: Sandbox;
useSandbox(() => Sandbox.create({ ...h.opts, envs: { SANDBOX_WIDE: 'everywhere' } }), (s) => (sbx = s));

/**
 * Runs code and records every callback, in the order the SDK made them. How output is
 * cut into chunks is not part of the contract: consecutive chunks of one stream are
 * merged into one entry.
 */
async function recorded(code: string, opts: Parameters<Sandbox['runCode']>[1] = {}) {
  const events: string[] = [];
  const output = (stream: string, text: string) => {
    const last = events.length - 1;
    if (last >= 0 && events[last].startsWith(`${stream}:`)) events[last] += text;
    else events.push(`${stream}:${text}`);
  };
  const execution = await sbx.runCode(code, {
    ...opts,
    onStdout: (m) => output('stdout', m.line),
    onStderr: (m) => output('stderr', m.line),
    onResult: (r) => void events.push(`result:${r.isMainResult ? 'main' : 'display'}:${r.formats().join(',') || r.text}`),
    onError: (e) => void events.push(`error:${e.name}`),
  });
  return { execution, events };
}

describe('execution', () => {
  test('state carries over between runs; the last expression is the main result', async () => {
    const first = await sbx.runCode('x = 1');
    expect(first.results).toEqual([]);
    expect(first.text).toBeUndefined();
    expect(first.error).toBeUndefined();
    const second = await sbx.runCode('x + 1');
    expect(second.text).toBe('2');
    expect(second.results).toHaveLength(1);
    expect(second.results[0].isMainResult).toBe(true);
    expect(second.executionCount).toBeGreaterThan(first.executionCount!);
    // A string result loses one layer of quotes, as on E2B.
    expect((await sbx.runCode('"hello"')).text).toBe('hello');
  });

  test('display() and plt.show() give display results before the main result', async () => {
    const e = await sbx.runCode(
      'from IPython.display import display\nimport matplotlib.pyplot as plt\n' +
        'display("shown")\nplt.plot([1, 2, 3])\nplt.show()\n40 + 2',
    );
    expect(e.results.map((r) => r.isMainResult)).toEqual([false, false, true]);
    expect(e.results[0].text).toBe('shown');
    expect(e.results[1].text).toMatch(/^<Figure size \d+x\d+ with 1 Axes>$/);
    expect(e.results[1].png).toBeTruthy();
    expect(e.results[2].text).toBe('42');
    expect(e.text).toBe('42');
  });

  test('callbacks come in the order the code produced its output', async () => {
    const { execution, events } = await recorded(
      'import sys\nfrom IPython.display import display, HTML\n' +
        'print("one")\ndisplay(HTML("<b>two</b>"))\nprint("three", file=sys.stderr)\nprint("four")\n' +
        'for i in range(3):\n    print("out", i)\n    print("err", i, file=sys.stderr)\n' +
        // Partial lines, still in Python's buffers when the stream switches.
        'sys.stdout.write("p")\nsys.stderr.write("q")\nprint("r")\n' +
        '1 / 0',
    );
    expect(events).toEqual([
      'stdout:one\n',
      'result:display:html',
      'stderr:three\n',
      'stdout:four\nout 0\n',
      'stderr:err 0\n',
      'stdout:out 1\n',
      'stderr:err 1\n',
      'stdout:out 2\n',
      'stderr:err 2\n',
      'stdout:p',
      'stderr:q',
      'stdout:r\n',
      'error:ZeroDivisionError',
    ]);
    expect(execution.logs.stdout.join('')).toBe('one\nfour\nout 0\nout 1\nout 2\npr\n');
    expect(execution.logs.stderr.join('')).toBe('three\nerr 0\nerr 1\nerr 2\nq');
  });

  test('output streams while the code is still running', async () => {
    // The code cannot finish before the test has seen its first line: it waits for a
    // file that the test writes from the first onStdout callback.
    const flag = `/tmp/streamed-${Date.now()}`;
    const order: string[] = [];
    let wrote: Promise<unknown> | undefined;
    const e = await sbx
      .runCode(
        `import os, time\nprint("first")\nfor _ in range(600):\n    if os.path.exists("${flag}"): break\n    time.sleep(0.05)\n` +
          'else:\n    raise RuntimeError("the first line was not streamed")\nprint("second")',
        {
          onStdout: (m) => {
            order.push(m.line);
            if (m.line === 'first\n') wrote = sbx.files.write(flag, 'go');
          },
        },
      )
      .then((e) => {
        order.push('resolved');
        return e;
      });
    await wrote;
    expect(e.error).toBeUndefined();
    expect(order).toEqual(['first\n', 'second\n', 'resolved']);
  });

  test('errors carry name, value and a traceback that shows the failing line', async () => {
    const e = await sbx.runCode('def divide(a, b):\n    return a / b\n\ndivide(1, 0)');
    expect(e.error?.name).toBe('ZeroDivisionError');
    expect(e.error?.value).toBe('division by zero');
    // The traceback is ANSI-coloured, as from Jupyter; without colours it names the lines.
    const plain = e.error!.traceback.replace(/\x1b\[[0-9;]*m/g, '');
    expect(plain).toContain('divide(1, 0)');
    expect(plain).toContain('return a / b');
    expect(plain).toContain('ZeroDivisionError');
    expect(e.results).toEqual([]);

    const syntax = await sbx.runCode('def f(:\n    pass');
    expect(syntax.error?.name).toBe('SyntaxError');
    expect(syntax.error?.value).toMatch(/invalid syntax|was never closed/);
    expect(syntax.error?.traceback.replace(/\x1b\[[0-9;]*m/g, '')).toContain('def f(:');
    // An error ends the run, not the context.
    expect((await sbx.runCode('x')).text).toBe('1');
  });

  test('magics, shell escapes, threads and child processes', async () => {
    expect((await sbx.runCode('%pwd')).text).toBe('/home/user');
    expect((await sbx.runCode('!echo hi')).logs.stdout.join('')).toBe('hi\n');
    const threads = await sbx.runCode(
      'import threading\nt = threading.Thread(target=lambda: print("from a thread"))\nt.start()\nt.join()',
    );
    expect(threads.logs.stdout.join('')).toBe('from a thread\n');
    const child = await sbx.runCode('import subprocess\nsubprocess.run(["echo", "from a child"]).returncode');
    expect(child.logs.stdout.join('')).toBe('from a child\n');
    expect(child.text).toBe('0');
    const stderr = await sbx.runCode('import subprocess\n_ = subprocess.run("echo to-stderr >&2", shell=True)');
    expect(stderr.logs.stderr.join('')).toBe('to-stderr\n');
  });
});

describe('timeouts and interrupts', () => {
  test('a run past timeoutMs rejects with TimeoutError; the context keeps its state', async () => {
    await sbx.runCode('kept = 41');
    await expect(sbx.runCode('while True: pass', { timeoutMs: 2000 })).rejects.toBeInstanceOf(TimeoutError);
    const after = await sbx.runCode('kept + 1');
    expect(after.error).toBeUndefined();
    expect(after.text).toBe('42');
  });

  test('a client that goes away mid-run interrupts the code; the sandbox keeps working', async () => {
    // The SDK (2.8.0) has no `signal` option for runCode: its only way to drop a run
    // is its own AbortController, fired by timeoutMs. The server sees the request close.
    await sbx.runCode('interrupted = False');
    const err = await sbx
      .runCode('import time\ntry:\n    time.sleep(120)\nexcept KeyboardInterrupt:\n    interrupted = True\n    raise', {
        timeoutMs: 1500,
      })
      .catch((e) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    // The next run waits for the interrupted one: the interrupt must have landed.
    expect((await sbx.runCode('interrupted')).text).toBe('True');
    expect(await sbx.isRunning()).toBe(true);
    expect((await sbx.commands.run('echo alive')).stdout).toBe('alive\n');
    expect((await sbx.runCode('kept')).text).toBe('41');
  });
});

describe('contexts', () => {
  test('contexts are isolated, listed, honour cwd, restart fresh and can be removed', async () => {
    const a = await sbx.createCodeContext();
    const b = await sbx.createCodeContext({ cwd: '/tmp' });
    expect(a).toMatchObject({ language: 'python', cwd: '/home/user' });
    expect(b).toMatchObject({ language: 'python', cwd: '/tmp' });
    expect(a.id).not.toBe(b.id);

    await sbx.runCode('secret = "a"', { context: a });
    const leak = await sbx.runCode('secret', { context: b });
    expect(leak.error?.name).toBe('NameError');
    expect((await sbx.runCode('secret', { context: a })).text).toBe('a');
    // Nor does the default context see it.
    expect((await sbx.runCode('"secret" in globals()')).text).toBe('False');

    expect((await sbx.runCode('import os; os.getcwd()', { context: b })).text).toBe('/tmp');
    expect((await sbx.runCode('import os; os.getcwd()', { context: a })).text).toBe('/home/user');

    const listed = await sbx.listCodeContexts();
    expect(listed).toEqual(expect.arrayContaining([a, b]));

    await sbx.restartCodeContext(a);
    const restarted = await sbx.runCode('secret', { context: a });
    expect(restarted.error?.name).toBe('NameError');
    expect((await sbx.runCode('import os; os.getcwd()', { context: a })).text).toBe('/home/user');

    await sbx.removeCodeContext(b.id);
    expect((await sbx.listCodeContexts()).map((c) => c.id)).not.toContain(b.id);
    await expect(sbx.runCode('1', { context: b })).rejects.toBeInstanceOf(NotFoundError);
    await sbx.removeCodeContext(a);
  });

  test('unknown context ids are NotFoundError everywhere', async () => {
    const ghost: Context = { id: 'no-such-context', language: 'python', cwd: '/home/user' };
    await expect(sbx.runCode('1', { context: ghost })).rejects.toBeInstanceOf(NotFoundError);
    await expect(sbx.runCode('1', { context: ghost })).rejects.toThrow(/no-such-context/);
    await expect(sbx.restartCodeContext(ghost.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(sbx.removeCodeContext(ghost.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  test('a missing cwd is refused', async () => {
    await expect(sbx.createCodeContext({ cwd: '/no/such/dir' })).rejects.toBeInstanceOf(SandboxError);
  });

  test('bash contexts', async () => {
    const ctx = await sbx.createCodeContext({ language: 'bash' });
    expect(ctx.language).toBe('bash');
    const e = await sbx.runCode('echo $((1+2))', { context: ctx });
    expect(e.logs.stdout).toEqual(['3\n']);
    expect(e.error).toBeUndefined();
    const failed = await sbx.runCode('echo oops >&2; exit 3', { context: ctx });
    expect(failed.logs.stderr.join('')).toBe('oops\n');
    expect(failed.error?.value).toMatch(/exit status 3/);
    // By language, without naming a context.
    const byLanguage = await sbx.runCode('echo "$SANDBOX_WIDE $PER_RUN"', { language: 'bash', envs: { PER_RUN: 'here' } });
    expect(byLanguage.logs.stdout.join('')).toBe('everywhere here\n');
    await sbx.removeCodeContext(ctx);
  });
});

describe('environment variables', () => {
  test('envs apply to one run only; sandbox-wide envs are always there', async () => {
    expect((await sbx.runCode('import os; os.environ.get("A")', { envs: { A: 'B' } })).text).toBe('B');
    expect((await sbx.runCode('import os; repr(os.environ.get("A"))')).text).toBe('None');
    expect((await sbx.runCode('import os; os.environ["SANDBOX_WIDE"]')).text).toBe('everywhere');
    // A per-run value shadows a sandbox-wide one, which comes back afterwards.
    expect((await sbx.runCode('import os; os.environ["SANDBOX_WIDE"]', { envs: { SANDBOX_WIDE: 'shadowed' } })).text).toBe('shadowed');
    expect((await sbx.runCode('import os; os.environ["SANDBOX_WIDE"]')).text).toBe('everywhere');
    // Child processes see them too.
    const child = await sbx.runCode('import subprocess\n_ = subprocess.run(\'echo "$A $SANDBOX_WIDE"\', shell=True)', { envs: { A: 'child' } });
    expect(child.logs.stdout.join('')).toBe('child everywhere\n');
  });
});

describe('kernel death', () => {
  test.each([
    ['os._exit', 'import os; os._exit(1)', /exited with status 1/],
    ['a segfault', 'import ctypes; ctypes.string_at(0)', /segmentation fault/],
  ])('%s: the run reports it, the next run gets a fresh kernel', async (_what, code, reason) => {
    const ctx = await sbx.createCodeContext();
    try {
      await sbx.runCode('before = 1', { context: ctx });
      const died = await sbx.runCode(code, { context: ctx });
      expect(died.error?.name).toBe('KernelDiedError');
      expect(died.error?.value).toMatch(reason);
      expect(died.error?.value).toMatch(/state .*was lost/);
      const next = await sbx.runCode('"before" in globals(), 6 * 7', { context: ctx });
      expect(next.error).toBeUndefined();
      expect(next.text).toBe('(False, 42)');
    } finally {
      await sbx.removeCodeContext(ctx);
    }
  });
});

describe('the sandbox killed mid-run', () => {
  test('the run fails (the response is cut off, not ended), as with E2B', async () => {
    const doomed = await Sandbox.create(h.opts);
    let printed!: () => void;
    const started = new Promise<void>((resolve) => (printed = resolve));
    const run = doomed.runCode('import time\nprint("started", flush=True)\ntime.sleep(60)', { onStdout: () => printed() });
    const outcome = run.then(
      () => 'returned',
      (err: Error) => err.name,
    );
    await started;
    await Sandbox.kill(doomed.sandboxId, h.opts);
    expect(await outcome).toBe('TimeoutError');
  });
});

describe('bad inputs', () => {
  test('100 MB of output in one run arrives in full', async () => {
    let bytes = 0;
    let lines = 0;
    let onlyX = true;
    const e = await sbx.runCode("import sys\nfor _ in range(100): sys.stdout.write('x' * 1_000_000 + '\\n')", {
      onStdout: (m) => {
        bytes += m.line.length;
        lines += m.line.split('\n').length - 1;
        if (onlyX && !/^[x\n]*$/.test(m.line)) onlyX = false;
      },
    });
    expect(e.error).toBeUndefined();
    expect(bytes).toBe(100 * 1_000_001);
    expect(lines).toBe(100);
    expect(onlyX).toBe(true);
    expect(e.logs.stdout.reduce((n, s) => n + s.length, 0)).toBe(100 * 1_000_001);
  });

  test('binary garbage on stdout becomes replacement characters', async () => {
    const e = await sbx.runCode('import sys\nsys.stdout.buffer.write(bytes(range(256)))\nsys.stdout.flush()');
    expect(e.error).toBeUndefined();
    const out = e.logs.stdout.join('');
    const ascii = String.fromCharCode(...Array.from({ length: 128 }, (_, i) => i));
    expect(out.startsWith(ascii)).toBe(true);
    const rest = out.slice(128);
    expect(rest.length).toBeGreaterThan(0);
    expect(rest).toMatch(/^\uFFFD+$/);
    expect((await sbx.runCode('"still fine"')).text).toBe('still fine');
  });

  test('an unknown language is an error', async () => {
    const err = await sbx.runCode('x', { language: 'cobol' }).catch((e) => e);
    expect(err).toBeInstanceOf(SandboxError);
    expect(err.message).toMatch(/400/);
  });

  test('two runs on one context at once queue and run in order', async () => {
    let second: ReturnType<typeof sbx.runCode> | undefined;
    // The second is sent once the first is running; it must wait for the first to finish
    // (it sees the value the first sets at its very end) and count as the next execution.
    const first = sbx.runCode('import time\nprint("running", flush=True)\ntime.sleep(1)\nqueued = "first"\nqueued', {
      onStdout: () => {
        second ??= sbx.runCode('queued + " then second"');
      },
    });
    const a = await first;
    const b = await second!;
    expect(a.text).toBe('first');
    expect(b.text).toBe('first then second');
    expect(b.executionCount).toBe(a.executionCount! + 1);
  });
});
