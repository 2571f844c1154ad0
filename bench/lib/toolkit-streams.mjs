// Issue 4: the toolkit's streams. How late a job's output line reaches a log tail; whether
// a 200 MB flood reaches the tail whole and in order, how fast, and what it costs the
// server; 1 GiB up and down through UploadFile / DownloadFile. Each beside the official
// SDK doing the same straight against the service's embedded runtime, in the same run.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import v8 from 'node:v8';
import vm from 'node:vm';
import { TS_CONNECT, TS_GRPC, STREAM_CLIENTS } from './toolkit-clients.mjs';
import { GROUP, withToolkitSandbox } from './toolkit.mjs';
import { resetPeak, status } from './proc.mjs';
import { mib } from './harness.mjs';
import { latencyRow, throughputRow, valueRow } from './rows.mjs';
import { summarize, sleep, MiB } from './stats.mjs';

const SDK_DIRECT = 'e2b SDK straight to the embedded runtime, same sandbox';

// ---- tail latency ----

/** A job that prints the sandbox's wall clock (ns) every 200 ms, after a second's pause so every tail is attached. */
const clockLoop = (lines) => `sleep 1; for i in $(seq 1 ${lines}); do date +%s%N; sleep 0.2; done`;

/**
 * Collects, for each complete line (a nanosecond timestamp), ms from the line's printed
 * time to its arrival here. Both clocks are this machine's CLOCK_REALTIME (a sandbox has no
 * time namespace); Date.now() has 1 ms resolution.
 */
function lineLatencies() {
  const ms = [];
  const decoder = new StringDecoder('utf8');
  let partial = '';
  return {
    ms,
    push(data) {
      const now = Date.now();
      const text = partial + (typeof data === 'string' ? data : decoder.write(data));
      const lines = text.split('\n');
      partial = lines.pop();
      for (const line of lines) {
        if (!/^\d{19}$/.test(line)) throw new Error(`the clock job printed ${JSON.stringify(line)}`);
        ms.push(now - Number(BigInt(line) / 1000n) / 1000);
      }
    },
  };
}

const tailLatency = {
  name: 'toolkit-tail',
  group: GROUP,
  async run({ quick, log }) {
    const lines = quick ? 15 : 50;
    return withToolkitSandbox({}, async ({ server, sandboxId, sdk }) => {
      const opened = STREAM_CLIENTS.map((c) => ({ client: c, handle: c.open(server) }));
      try {
        // One job per client and one through the SDK, all at once, so they share the machine's state.
        const base = lineLatencies();
        const sdkRun = sdk.commands
          .run(clockLoop(lines), { background: true, timeoutMs: 0, onStdout: (d) => base.push(d) })
          .then((h) => h.wait());
        const ours = await Promise.all(
          opened.map(async ({ client, handle }) => {
            const got = lineLatencies();
            const jobId = await handle.startCommand(sandboxId, clockLoop(lines));
            const end = await handle.tailJob(jobId, (data) => got.push(data));
            if (end.exitCode !== 0) throw new Error(`${client.id}: the clock job exited ${end.exitCode}`);
            if (got.ms.length !== lines) throw new Error(`${client.id}: ${got.ms.length} lines reached the tail, expected ${lines}`);
            return { client, ms: got.ms };
          }),
        );
        await sdkRun;
        if (base.ms.length !== lines) throw new Error(`SDK: ${base.ms.length} lines arrived, expected ${lines}`);
        const label = "the same job via e2b SDK `commands.run(…, { background: true, onStdout })`, same sandbox, at the same time";
        for (const { client, ms } of ours) log(`toolkit-tail ${client.id}: p50 ${summarize(ms).p50.toFixed(1)} ms (SDK ${summarize(base.ms).p50.toFixed(1)} ms)`);
        return {
          rows: ours.map(({ client, ms }) =>
            latencyRow(`toolkit-tail-${client.id}`, GROUP, `job line printed → arrives in \`TailJobLogs\`: ${client.label}`, ms, { label, ms: base.ms }, 50, { withP99: true }),
          ),
        };
      } finally {
        for (const { handle } of opened) handle.close();
      }
    });
  },
};

// ---- output flood ----

const FLOOD_BYTES = 200_000_000;
/** Numbered lines, cut at an exact byte count: any lost, repeated or reordered byte changes the hash. */
const floodCommand = (bytes) => `seq 1 40000000 | head -c ${bytes}`;

/** sha256 of what the flood command prints on the host (the same coreutils seq and head). */
function hostReference(bytes) {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/bash', ['-c', floodCommand(bytes)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const hash = createHash('sha256');
    let n = 0;
    child.stdout.on('data', (d) => {
      hash.update(d);
      n += d.length;
    });
    child.once('error', reject);
    child.once('close', (code) => (code === 0 && n === bytes ? resolve(hash.digest('hex')) : reject(new Error(`host flood: exit ${code}, ${n} bytes`))));
  });
}

/** The flood through the service: StartCommand, then one TailJobLogs from offset 0 to Ended. */
async function floodThroughToolkit(handle, sandboxId, bytes, reference) {
  const hash = createHash('sha256');
  let n = 0;
  const t0 = performance.now();
  const jobId = await handle.startCommand(sandboxId, floodCommand(bytes));
  const end = await handle.tailJob(jobId, (data, offset) => {
    if (offset !== n) throw new Error(`a chunk at offset ${offset} after ${n} bytes`);
    hash.update(data);
    n += data.length;
  });
  const ms = performance.now() - t0;
  if (end.exitCode !== 0) throw new Error(`the flood job exited ${end.exitCode}`);
  check(n, end.stdoutBytes, hash.digest('hex'), bytes, reference);
  return ms;
}

/** The flood with the SDK: commands.run with onStdout, to exit. */
async function floodThroughSdk(sdk, bytes, reference) {
  const hash = createHash('sha256');
  let n = 0;
  const t0 = performance.now();
  const r = await sdk.commands.run(floodCommand(bytes), {
    timeoutMs: 0,
    onStdout: (d) => {
      hash.update(d);
      n += Buffer.byteLength(d);
    },
  });
  const ms = performance.now() - t0;
  if (r.exitCode !== 0) throw new Error(`SDK: the flood exited ${r.exitCode}`);
  check(n, n, hash.digest('hex'), bytes, reference);
  return ms;
}

function check(n, reported, sha, bytes, reference) {
  if (n !== bytes || reported !== bytes) throw new Error(`${n} bytes arrived (job reported ${reported}), expected ${bytes}`);
  if (sha !== reference) throw new Error('the bytes that arrived differ from the host reference (lost, repeated or reordered)');
}

const FLOOD_CLIENTS = [TS_GRPC, TS_CONNECT];

const flood = {
  name: 'toolkit-flood',
  group: GROUP,
  async run({ quick, log }) {
    const bytes = quick ? 20_000_000 : FLOOD_BYTES;
    const mb = `${bytes / 1e6} MB`;
    const reference = await hostReference(bytes);
    return withToolkitSandbox({}, async ({ server, sandboxId, sdk }) => {
      const opened = FLOOD_CLIENTS.map((c) => ({ client: c, handle: c.open(server) }));
      try {
        // A small one first, untimed: connections, JIT, the job store's first spill file.
        await floodThroughToolkit(opened[0].handle, sandboxId, 1_000_000, await hostReference(1_000_000));
        const idle = status(server.pid).rss;
        const rows = [];
        const details = [];
        resetPeak(server.pid);
        const baseMs = await floodThroughSdk(sdk, bytes, reference);
        const basePeak = status(server.pid).hwm;
        const base = { label: `${SDK_DIRECT}: \`commands.run\` with \`onStdout\``, ms: [baseMs] };
        for (const { client, handle } of opened) {
          resetPeak(server.pid);
          const ms = await floodThroughToolkit(handle, sandboxId, bytes, reference);
          const peak = status(server.pid).hwm;
          log(`toolkit-flood ${client.id}: ${(bytes / 1e6 / (ms / 1000)).toFixed(0)} MB/s, server peak ${mib(peak).toFixed(0)} MiB`);
          rows.push(
            throughputRow(`toolkit-flood-${client.id}`, GROUP, `job printing ${mb} → \`TailJobLogs\`, all bytes in order (sha256 = host's): ${client.label}`, bytes, [ms], base),
            valueRow(`toolkit-flood-${client.id}-rss`, GROUP, '… server peak RSS (VmHWM; embedded runtime included)', 'MiB', mib(peak),
              { label: 'same process during the SDK flood', value: mib(basePeak) }),
          );
        }
        details.push(`toolkit-flood: \`${floodCommand(bytes)}\`; server RSS before ${mib(idle).toFixed(0)} MiB; every chunk's offset checked against the bytes before it`);
        return { rows, details };
      } finally {
        for (const { handle } of opened) handle.close();
      }
    });
  },
};

// ---- 1 GiB up and down ----

const FILE_BYTES = 1024 * MiB;
const CHUNK = 256 * 1024;

/** Random chunks (incompressible, so no content encoding on the way can shrink them), made as they are sent and hashed. */
function* randomChunks(bytes, hash) {
  for (let at = 0; at < bytes; at += CHUNK) {
    const chunk = randomBytes(Math.min(CHUNK, bytes - at));
    hash.update(chunk);
    yield chunk;
  }
}

// Lets the bench collect its garbage between transfers, so that one transfer's leftovers
// do not count as the next one's peak (VmHWM is reset to the RSS at that moment).
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

/**
 * Runs fn with the peak RSS of the server and of this process reset before:
 * → { ms, server, client, serverBefore, clientBefore } (bytes).
 */
async function measured(serverPid, fn) {
  gc();
  await sleep(500);
  const serverBefore = status(serverPid).rss;
  const clientBefore = status(process.pid).rss;
  resetPeak(serverPid);
  resetPeak(process.pid);
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  return { ms, server: status(serverPid).hwm, client: status(process.pid).hwm, serverBefore, clientBefore };
}

async function toolkitUpload(files, sandboxId, path, bytes) {
  const hash = createHash('sha256');
  async function* requests() {
    yield { part: { case: 'header', value: { sandboxId, clientId: 'bench', path, sizeBytes: BigInt(bytes) } } };
    for (const chunk of randomChunks(bytes, hash)) yield { part: { case: 'chunk', value: chunk } };
  }
  const { file } = await files.uploadFile(requests());
  if (Number(file?.sizeBytes) !== bytes) throw new Error(`UploadFile stored ${file?.sizeBytes} bytes, expected ${bytes}`);
  return hash.digest('hex');
}

async function toolkitDownload(files, sandboxId, path, bytes, sha) {
  const hash = createHash('sha256');
  let n = 0;
  for await (const res of files.downloadFile({ sandboxId, clientId: 'bench', path })) {
    if (res.part.case !== 'chunk') continue;
    hash.update(res.part.value);
    n += res.part.value.length;
  }
  if (n !== bytes || hash.digest('hex') !== sha) throw new Error(`DownloadFile gave ${n} bytes${n === bytes ? ' that differ from the upload' : ''}`);
}

async function sdkWrite(sdk, path, bytes) {
  const hash = createHash('sha256');
  const chunks = randomChunks(bytes, hash);
  const body = new ReadableStream({
    pull(controller) {
      const next = chunks.next();
      if (next.done) controller.close();
      else controller.enqueue(new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.byteLength));
    },
  });
  await sdk.files.write(path, body, { requestTimeoutMs: 0 });
  return hash.digest('hex');
}

async function sdkRead(sdk, path, bytes, sha) {
  const hash = createHash('sha256');
  let n = 0;
  const stream = await sdk.files.read(path, { format: 'stream', requestTimeoutMs: 0 });
  for await (const chunk of stream) {
    hash.update(chunk);
    n += chunk.length;
  }
  if (n !== bytes || hash.digest('hex') !== sha) throw new Error(`SDK files.read gave ${n} bytes${n === bytes ? ' that differ from what was written' : ''}`);
}

const bigFiles = {
  name: 'toolkit-files',
  group: GROUP,
  async run({ quick, log }) {
    const bytes = quick ? 100 * MiB : FILE_BYTES;
    const size = quick ? '100 MiB' : '1 GiB';
    // /home/user is a tmpfs of the disk limit: room for the file and the upload's temporary copy.
    const metadata = { 'toolkit.diskMB': String(Math.ceil((2 * bytes) / MiB) + 512) };
    return withToolkitSandbox({ metadata }, async ({ server, sandboxId, sdk }) => {
      const { clients } = TS_GRPC.open(server);
      const files = clients.files;
      const path = '/home/user/bench-big.bin';
      const basePath = '/home/user/bench-big-sdk.bin';
      // Untimed: first calls of each path.
      await sdkRead(sdk, basePath, MiB, await sdkWrite(sdk, basePath, MiB));
      await toolkitDownload(files, sandboxId, path, MiB, await toolkitUpload(files, sandboxId, path, MiB));

      let sha;
      // The service first, and the SDK's write last: that write keeps what it sent in this
      // process's memory (see the details), which any later transfer would start from. The
      // SDK reads the file UploadFile wrote, so both reads check the same bytes.
      const up = await measured(server.pid, async () => (sha = await toolkitUpload(files, sandboxId, path, bytes)));
      const down = await measured(server.pid, () => toolkitDownload(files, sandboxId, path, bytes, sha));
      const br = await measured(server.pid, () => sdkRead(sdk, path, bytes, sha));
      const bw = await measured(server.pid, () => sdkWrite(sdk, basePath, bytes));
      await sdk.files.remove(path);
      await sdk.files.remove(basePath);
      log(`toolkit-files: up ${(bytes / 1e6 / (up.ms / 1000)).toFixed(0)} MB/s, down ${(bytes / 1e6 / (down.ms / 1000)).toFixed(0)} MB/s`);

      const before = (m) => `${mib(m.serverBefore).toFixed(0)} / ${mib(m.clientBefore).toFixed(0)}`;
      const rss = (id, what, ours, base, baseWhat) => [
        valueRow(`${id}-server`, GROUP, `… server peak RSS (VmHWM; embedded runtime included) during the ${what}`, 'MiB', mib(ours.server),
          { label: `same process during the SDK's ${baseWhat}`, value: mib(base.server) }),
        valueRow(`${id}-client`, GROUP, `… client (bench process) peak RSS during the ${what}`, 'MiB', mib(ours.client),
          { label: `bench process during the SDK's ${baseWhat}`, value: mib(base.client) }),
      ];
      return {
        rows: [
          throughputRow('toolkit-upload', GROUP, `\`UploadFile\` ${size} (client stream, TS client over gRPC/h2c), generated as sent`, bytes, [up.ms],
            { label: `${SDK_DIRECT}: \`files.write(path, ReadableStream)\``, ms: [bw.ms] }),
          ...rss('toolkit-upload', 'upload', up, bw, 'write'),
          throughputRow('toolkit-download', GROUP, `\`DownloadFile\` ${size} (server stream, TS client over gRPC/h2c), hashed as received`, bytes, [down.ms],
            { label: `${SDK_DIRECT}: \`files.read(path, { format: 'stream' })\``, ms: [br.ms] }),
          ...rss('toolkit-download', 'download', down, br, 'read'),
        ],
        details: [
          `toolkit-files: RSS just before each transfer (MiB, server / client): UploadFile ${before(up)}, DownloadFile ${before(down)}, SDK read ${before(br)}, SDK write ${before(bw)}`,
          'toolkit-files: the SDK\'s `files.write(path, ReadableStream)` keeps all it sends in the caller\'s memory: undici clones a request that may follow redirects, and cloning tees the streamed body, whose unread branch keeps every chunk (nodejs/undici#4058); the service avoids that for its own uploads to the runtime (packages/core/src/bounded-upload.ts), the baseline is the SDK as users call it',
          `toolkit-files: random bytes in ${CHUNK / 1024} KiB chunks, made as sent (never all in memory), sha256 checked after each direction; order UploadFile, DownloadFile, SDK read (of the uploaded file), SDK write; sandbox \`toolkit.diskMB\` ${metadata['toolkit.diskMB']}`,
        ],
      };
    });
  },
};

export const toolkitStreamBenches = [tailLatency, flood, bigFiles];
