// The ways a caller reaches the toolkit server, as rows of the round-trip benchmarks. Each
// client is { id, label, open(server) → { runCommand, runPython, close } }: one more row
// (say a Python client, spawned as a helper process that answers timing requests) is one
// more entry in TOOLKIT_CLIENTS, and every toolkit benchmark that loops over the list
// measures it beside the others, interleaved, in the same run.
//
//   runCommand(sandboxId, command)   → { exitCode, stdout }
//   runPython(sandboxId, code)       → { text, error }   (text of the main result)
//   startCommand(sandboxId, command) → jobId             (a background job)
//   tailJob(jobId, onStdout)         → { exitCode, stdoutBytes } once the job has ended;
//                                      onStdout(bytes: Uint8Array, offset: number) per chunk
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createToolkitClients } from 'e2b-toolkit';
import { BENCH_KEY } from './toolkit-server.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PROTO_ROOT = path.resolve(HERE, '../../proto');

/** The TypeScript client's generated service clients (clients/ts) over one protocol. */
function tsClient(protocol, label) {
  return {
    id: `ts-${protocol}`,
    label,
    open(server) {
      const c = createToolkitClients({ baseUrl: server.url, apiKey: BENCH_KEY, protocol, clientId: 'bench' });
      return {
        clients: c,
        async runCommand(sandboxId, command) {
          const r = await c.commands.runCommand({ sandboxId, clientId: c.clientId, command });
          return { exitCode: r.exitCode, stdout: r.stdout };
        },
        async runPython(sandboxId, code) {
          const { execution } = await c.code.runPythonCode({ sandboxId, clientId: c.clientId, code });
          return { text: execution?.results.find((r) => r.isMainResult)?.text, error: execution?.error };
        },
        async startCommand(sandboxId, command) {
          const { job } = await c.commands.startCommand({ sandboxId, clientId: c.clientId, command });
          return job.jobId;
        },
        async tailJob(jobId, onStdout) {
          for await (const res of c.jobs.tailJobLogs({ jobId })) {
            if (res.event.case === 'stdout') onStdout(res.event.value.data, Number(res.event.value.offset));
            else if (res.event.case === 'ended') {
              const job = res.event.value.job;
              return { exitCode: job?.exitCode, stdoutBytes: Number(job?.stdoutBytes) };
            }
          }
          throw new Error(`the tail of job ${jobId} ended without an Ended event`);
        },
        close() {},
      };
    },
  };
}

/**
 * A plain @grpc/grpc-js caller: the .proto files loaded at run time with @grpc/proto-loader
 * (no generated code), the key in metadata, as a user of any gRPC stack would call it.
 */
const grpcJs = {
  id: 'grpc-js',
  label: '`@grpc/grpc-js` + `@grpc/proto-loader` (protos loaded at run time), gRPC/h2c',
  open(server) {
    const def = protoLoader.loadSync(
      ['e2b_toolkit/v1/command_service.proto', 'e2b_toolkit/v1/code_service.proto', 'e2b_toolkit/v1/job_service.proto'],
      { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [PROTO_ROOT] },
    );
    const v1 = grpc.loadPackageDefinition(def).e2b_toolkit.v1;
    const address = new URL(server.url).host;
    const commands = new v1.CommandService(address, grpc.credentials.createInsecure());
    const code = new v1.CodeService(address, grpc.credentials.createInsecure(), { channelOverride: commands.getChannel() });
    const jobs = new v1.JobService(address, grpc.credentials.createInsecure(), { channelOverride: commands.getChannel() });
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${BENCH_KEY}`);
    const unary = (client, method, req) =>
      new Promise((resolve, reject) => client[method](req, md, (err, res) => (err ? reject(err) : resolve(res))));
    return {
      async runCommand(sandboxId, command) {
        const r = await unary(commands, 'RunCommand', { sandbox_id: sandboxId, client_id: 'bench', command });
        return { exitCode: r.exit_code, stdout: r.stdout };
      },
      async runPython(sandboxId, source) {
        const { execution } = await unary(code, 'RunPythonCode', { sandbox_id: sandboxId, client_id: 'bench', code: source });
        return { text: execution?.results.find((r) => r.is_main_result)?.text, error: execution?.error ?? undefined };
      },
      async startCommand(sandboxId, command) {
        const { job } = await unary(commands, 'StartCommand', { sandbox_id: sandboxId, client_id: 'bench', command });
        return job.job_id;
      },
      tailJob(jobId, onStdout) {
        return new Promise((resolve, reject) => {
          let ended;
          const call = jobs.TailJobLogs({ job_id: jobId }, md);
          call.on('data', (res) => {
            try {
              if (res.event === 'stdout') onStdout(res.stdout.data, Number(res.stdout.offset));
              else if (res.event === 'ended') ended = { exitCode: res.ended.job.exit_code ?? undefined, stdoutBytes: Number(res.ended.job.stdout_bytes) };
            } catch (err) {
              // A check in onStdout failed: stop the stream and report that, not CANCELLED.
              reject(err);
              call.cancel();
            }
          });
          call.on('error', reject);
          call.on('end', () => (ended ? resolve(ended) : reject(new Error(`the tail of job ${jobId} ended without an Ended event`))));
        });
      },
      close() {
        commands.close();
      },
    };
  },
};

/**
 * The Python client (clients/python, the reference API over grpcio), in a worker process
 * (python_client_worker.py) that makes each call when asked and times it itself: the pipe
 * between the two processes is not counted (the call's `elapsedMs`). Round trips only: it
 * has no startCommand / tailJob, so the stream benchmarks leave it out.
 */
const pythonClient = {
  id: 'python',
  label: 'Python client (`e2b_toolkit`, grpcio), gRPC/h2c',
  roundTripsOnly: true,
  open(server) {
    const worker = spawn('/usr/bin/python3', [path.join(HERE, 'python_client_worker.py')], {
      env: {
        ...process.env,
        PYTHONPATH: path.resolve(HERE, '../../clients/python'),
        PYTHONDONTWRITEBYTECODE: '1',
        E2B_TOOLKIT_URL: server.url,
        E2B_TOOLKIT_API_KEY: BENCH_KEY,
      },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const answers = readline.createInterface({ input: worker.stdout })[Symbol.asyncIterator]();
    let queue = Promise.resolve();
    // One request at a time, in order: the worker answers them in order.
    const ask = (op, sandboxId, arg) => {
      const asked = queue.then(async () => {
        worker.stdin.write(JSON.stringify({ op, sandbox_id: sandboxId, arg }) + '\n');
        const next = await answers.next();
        if (next.done) throw new Error('the Python client worker exited');
        return JSON.parse(next.value);
      });
      queue = asked.catch(() => {});
      return asked;
    };
    return {
      async runCommand(sandboxId, command) {
        const r = await ask('command', sandboxId, command);
        return { exitCode: r.exit_code, stdout: r.stdout, elapsedMs: r.ms };
      },
      async runPython(sandboxId, code) {
        const r = await ask('python', sandboxId, code);
        return { text: r.text, error: r.error ?? undefined, elapsedMs: r.ms };
      },
      close() {
        worker.stdin.end();
      },
    };
  },
};

export const TS_CONNECT = tsClient('connect', 'TS client (`e2b-toolkit`), Connect over HTTP/1.1');
export const TS_GRPC = tsClient('grpc', 'TS client (`e2b-toolkit`), gRPC over h2c');
export const GRPC_JS = grpcJs;
export const PYTHON = pythonClient;

/** Every client the round-trip benchmarks measure, in table order. */
export const TOOLKIT_CLIENTS = [TS_CONNECT, TS_GRPC, GRPC_JS, PYTHON];
/** The clients that can start and tail jobs, for the stream benchmarks. */
export const STREAM_CLIENTS = TOOLKIT_CLIENTS.filter((c) => !c.roundTripsOnly);
