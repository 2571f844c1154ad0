// The code interpreter (sandbox port 49999, protocol reference §4): POST /execute,
// the /contexts endpoints and /health, served from the agent. Python runs in one
// long-lived IPython kernel per context (kernel.ts); bash runs per execution (bash.ts).
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { baseEnv, type Spawner } from '../spawn.js';
import { DEFAULT_USER } from '../users.js';
import { BashRunner } from './bash.js';
import { ContextTable, parseLanguage, type Language } from './contexts.js';
import { handleExecute } from './execute.js';
import { HttpError, isObject, readJson, sendJson, sendText } from './http.js';
import { KernelProcess } from './kernel.js';
import { PythonRunner } from './python.js';
import type { Runner } from './runner.js';

export interface InterpreterOptions {
  spawner: Spawner;
  python: string;
  kernelDriver: string;
  globalEnv: () => Record<string, string>;
}

export interface Interpreter {
  handle(req: Http2ServerRequest, res: Http2ServerResponse): void;
  prewarm(): void;
  shutdown(): void;
}

export function createInterpreter(o: InterpreterOptions): Interpreter {
  // User code runs as the sandbox's default user, with the sandbox-wide variables.
  const user = DEFAULT_USER;
  const env = () => ({ ...baseEnv(user), ...o.globalEnv() });
  const makeRunner = (language: Language, cwd: string): Runner =>
    language === 'python'
      ? new PythonRunner(
          () =>
            new KernelProcess({
              spawner: o.spawner,
              python: o.python,
              driver: o.kernelDriver,
              user,
              cwd,
              env: env(),
              globalEnv: o.globalEnv,
            }),
        )
      : new BashRunner({ spawner: o.spawner, user, cwd, env });
  const contexts = new ContextTable(makeRunner, user.home);

  return {
    handle(req, res) {
      route(req, res, contexts).catch((err) => fail(res, err));
    },
    prewarm() {
      contexts.defaultFor('python').runner.prewarm();
    },
    shutdown() {
      contexts.disposeAll();
    },
  };
}

async function route(req: Http2ServerRequest, res: Http2ServerResponse, contexts: ContextTable): Promise<void> {
  // The SDK may append ?source=…; only the path matters.
  const path = new URL(req.url ?? '/', 'http://agent').pathname;
  const method = req.method;

  if (path === '/health') return sendText(res, 200, 'OK');
  if (path === '/execute') {
    if (method !== 'POST') throw new HttpError(405, 'use POST /execute');
    return handleExecute(req, res, contexts);
  }
  if (path === '/contexts') {
    if (method === 'GET') return sendJson(res, 200, contexts.list());
    if (method !== 'POST') throw new HttpError(405, 'use GET or POST /contexts');
    const body = await readJson(req);
    if (!isObject(body)) throw new HttpError(400, 'request body must be a JSON object');
    return sendJson(res, 200, contexts.create(parseLanguage(body.language), body.cwd));
  }
  const m = /^\/contexts\/([^/]+)(\/restart)?$/.exec(path);
  if (m) {
    const id = decodeURIComponent(m[1]);
    if (m[2]) {
      if (method !== 'POST') throw new HttpError(405, 'use POST /contexts/{id}/restart');
      const context = contexts.get(id);
      try {
        await context.runner.restart();
      } catch (err) {
        throw new HttpError(500, `context ${id} could not be restarted: ${(err as Error).message}`);
      }
      return sendJson(res, 200, context);
    }
    if (method !== 'DELETE') throw new HttpError(405, 'use DELETE /contexts/{id}');
    contexts.remove(id);
    res.writeHead(204).end();
    return;
  }
  throw new HttpError(404, `no such endpoint: ${method} ${path}`);
}

function fail(res: Http2ServerResponse, err: unknown): void {
  if (res.headersSent) {
    // Mid-stream (an NDJSON body): nothing left to say but to end it.
    res.end();
    return;
  }
  if (err instanceof HttpError) sendText(res, err.status, err.message);
  else sendText(res, 500, `internal error: ${(err as Error)?.message ?? String(err)}`);
}
