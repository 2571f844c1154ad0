// e2b-toolkit upload LOCAL [REMOTE] | download REMOTE [LOCAL]   (streamed, with a progress bar)
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { UploadFileRequestSchema } from '../../gen/e2b_toolkit/v1/file_service_pb.js';
import { action, type CliContext } from '../context.js';
import { CliError, EXIT, fileError } from '../errors.js';
import { INTERRUPTED, interruptible } from '../interrupt.js';
import { downloadDestination, statFile, writeAtomically } from '../local-files.js';
import { humanBytes } from '../output.js';
import { byteProgress } from '../progress.js';

const CHUNK_SIZE = 256 * 1024;

interface TransferOptions {
  progress?: boolean;
}

export function registerFileCommands(program: Command): void {
  program
    .command('upload')
    .description('copy a local file into the sandbox')
    .argument('<local>', 'the local file')
    .argument('[remote]', 'its path in the sandbox, relative to /home/user; ending in "/": a directory to put it in (default: the file\'s name)')
    .option('--progress', 'draw the progress bar even when stderr is not a terminal')
    .option('--no-progress', 'never draw the progress bar')
    .action(action(async (ctx, [local, remote], opts: TransferOptions) => upload(ctx, local as string, remote as string | undefined, opts)));

  program
    .command('download')
    .description('copy a file from the sandbox to the local disk')
    .argument('<remote>', 'the file\'s path in the sandbox')
    .argument('[local]', 'where to save it: a file, an existing directory, or "-" for stdout (default: the file\'s name, here)')
    .option('--progress', 'draw the progress bar even when stderr is not a terminal')
    .option('--no-progress', 'never draw the progress bar')
    .addHelpText('after', '\nThe file is written to a temporary file beside the destination and renamed into place\nwhen complete: a failed or interrupted download leaves nothing half-written.')
    .action(action(async (ctx, [remote, local], opts: TransferOptions) => download(ctx, remote as string, local as string | undefined, opts)));
}

async function upload(ctx: CliContext, local: string, remote: string | undefined, opts: TransferOptions): Promise<number> {
  const sandboxId = ctx.sandboxId();
  const size = await statFile(local);
  // A remote path ending in "/" is a directory to put the file in, as with cp.
  const remotePath = !remote ? path.basename(local) : remote.endsWith('/') ? `${remote}${path.basename(local)}` : remote;
  const header = { sandboxId, clientId: ctx.clientId, path: remotePath, sizeBytes: BigInt(size) };
  const bar = byteProgress(`upload ${path.basename(local)}`, { json: ctx.out.json, mode: opts.progress });
  bar.setTotal(size);
  async function* requests(): AsyncIterable<MessageInitShape<typeof UploadFileRequestSchema>> {
    yield { part: { case: 'header', value: header } };
    const stream = fs.createReadStream(local, { highWaterMark: CHUNK_SIZE });
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        yield { part: { case: 'chunk', value: new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength) } };
        bar.advance(chunk.byteLength);
      }
    } catch (err) {
      throw fileError(err, `cannot read ${local}`);
    }
  }
  const res = await interruptible((signal) => ctx.clients.files.uploadFile(requests(), { signal }), () => bar.stop());
  if (res === INTERRUPTED) return EXIT.interrupted;
  const written = res.file?.path || remotePath;
  ctx.out.result({ status: 'success', sandbox_id: sandboxId, local_path: path.resolve(local), path: written, size }, `${written} (${humanBytes(size)})`);
  return EXIT.ok;
}

async function download(ctx: CliContext, remote: string, local: string | undefined, opts: TransferOptions): Promise<number> {
  const sandboxId = ctx.sandboxId();
  const toStdout = local === '-';
  if (toStdout && ctx.out.json) throw new CliError('--json cannot be used with a download to stdout ("-")', 'usage', EXIT.usage);
  const dest = toStdout ? '-' : downloadDestination(remote, local);
  const bar = byteProgress(`download ${path.posix.basename(remote)}`, { json: ctx.out.json, mode: opts.progress });
  let remotePath = remote;
  let size = 0;
  // stdout cannot be renamed into place: its reader sees the bytes as they come.
  const write = (w: (out: NodeJS.WritableStream) => Promise<void>) => (toStdout ? w(process.stdout) : writeAtomically(dest, w));
  const done = await interruptible(
    (signal) =>
      write(async (out) => {
        for await (const res of ctx.clients.files.downloadFile({ sandboxId, clientId: ctx.clientId, path: remote }, { signal })) {
          if (res.part.case === 'file') {
            remotePath = res.part.value.path || remotePath;
            bar.setTotal(Number(res.part.value.sizeBytes));
          } else if (res.part.case === 'chunk') {
            size += res.part.value.byteLength;
            bar.advance(res.part.value.byteLength);
            if (!out.write(res.part.value)) await new Promise<void>((r) => out.once('drain', () => r()));
          }
        }
      }),
    () => bar.stop(),
  );
  if (done === INTERRUPTED) return EXIT.interrupted;
  if (toStdout) return EXIT.ok;
  ctx.out.result({ status: 'success', sandbox_id: sandboxId, path: remotePath, local_path: dest, size }, `${dest} (${humanBytes(size)})`);
  return EXIT.ok;
}
