// envd's process.Process service (wire protocol §3.3) on top of the ProcessTable.
import { ConnectError, Code, type HandlerContext, type ServiceImpl } from '@connectrpc/connect';
import { Process, Signal, type ProcessSelector } from './gen/process/process_pb.js';
import type { ProcessTable, ProcEvent, ManagedProcess } from './processes.js';
import { userFromAuthorization } from './users.js';

function selector(sel: ProcessSelector | undefined): { pid?: number; tag?: string } {
  switch (sel?.selector.case) {
    case 'pid':
      return { pid: sel.selector.value };
    case 'tag':
      return { tag: sel.selector.value };
    default:
      throw new ConnectError('process selector (pid or tag) is required', Code.InvalidArgument);
  }
}

function keepaliveMs(ctx: HandlerContext, fallbackSeconds: number): number {
  const s = Number(ctx.requestHeader.get('keepalive-ping-interval'));
  return (Number.isFinite(s) && s > 0 ? s : fallbackSeconds) * 1000;
}

/** Streams a process's events to one client; a client that goes away only detaches. */
async function* follow(proc: ManagedProcess, ctx: HandlerContext, keepalive: number) {
  const ch = proc.subscribe(keepalive);
  const onAbort = () => proc.unsubscribe(ch);
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const ev of ch as AsyncIterable<ProcEvent>) {
      yield { event: { event: ev } };
    }
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    proc.unsubscribe(ch);
  }
}

export function processService(table: ProcessTable, defaultKeepaliveSeconds: number): Partial<ServiceImpl<typeof Process>> {
  return {
    list() {
      return {
        processes: table.list().map((p) => ({
          pid: p.pid,
          tag: p.spec.tag,
          config: { cmd: p.spec.cmd, args: p.spec.args, envs: p.spec.envs, cwd: p.cwd },
        })),
      };
    },

    async *start(req, ctx) {
      if (req.pty) {
        throw new ConnectError('PTY sessions are not supported by the local runtime', Code.Unimplemented);
      }
      const user = userFromAuthorization(ctx.requestHeader.get('authorization'));
      const cfg = req.process;
      const proc = table.start({
        cmd: cfg?.cmd ?? '',
        args: cfg?.args ?? [],
        envs: cfg?.envs ?? {},
        cwd: cfg?.cwd,
        tag: req.tag,
        stdin: req.stdin ?? false,
        user,
      });
      // envd's rule: the request's deadline is the process's deadline, whether or not
      // the client is still attached when it passes.
      const deadline = ctx.timeoutMs();
      if (deadline !== undefined) {
        const timer = setTimeout(() => proc.signal('SIGKILL'), deadline);
        proc.child.once('close', () => clearTimeout(timer));
      }
      yield* follow(proc, ctx, keepaliveMs(ctx, defaultKeepaliveSeconds));
    },

    async *connect(req, ctx) {
      const proc = table.find(selector(req.process), true);
      yield* follow(proc, ctx, keepaliveMs(ctx, defaultKeepaliveSeconds));
    },

    sendInput(req) {
      const proc = table.find(selector(req.process));
      const input = req.input?.input;
      if (input?.case === 'pty') throw new ConnectError('process has no PTY', Code.FailedPrecondition);
      if (input?.case !== 'stdin') throw new ConnectError('input.stdin is required', Code.InvalidArgument);
      const stdin = proc.child.stdin;
      if (!stdin) throw new ConnectError('stdin was not enabled when the process started', Code.FailedPrecondition);
      if (stdin.writableEnded) throw new ConnectError('stdin is closed', Code.FailedPrecondition);
      stdin.write(input.value);
      return {};
    },

    closeStdin(req) {
      const proc = table.find(selector(req.process));
      const stdin = proc.child.stdin;
      if (!stdin) throw new ConnectError('stdin was not enabled when the process started', Code.FailedPrecondition);
      stdin.end();
      return {};
    },

    sendSignal(req) {
      const proc = table.find(selector(req.process));
      if (req.signal === Signal.SIGKILL) proc.signal('SIGKILL');
      else if (req.signal === Signal.SIGTERM) proc.signal('SIGTERM');
      else throw new ConnectError('signal must be SIGNAL_SIGKILL or SIGNAL_SIGTERM', Code.InvalidArgument);
      return {};
    },

    update() {
      throw new ConnectError('PTY sessions are not supported by the local runtime', Code.Unimplemented);
    },
  };
}
