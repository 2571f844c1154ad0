// The local side of file transfers: reading inputs and writing outputs without half-written files.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CliError, fileError } from './errors.js';

/** Reads a file, or stdin for "-". */
export async function readInput(file: string): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin as AsyncIterable<Buffer>) chunks.push(chunk);
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await fs.promises.readFile(file, 'utf8');
  } catch (err) {
    throw fileError(err, `cannot read ${file}`);
  }
}

/** A regular file's size, or a clear error (missing, a directory...). */
export async function statFile(file: string): Promise<number> {
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(file);
  } catch (err) {
    throw fileError(err, `cannot read ${file}`);
  }
  if (!stat.isFile()) throw new CliError(`cannot read ${file}: not a regular file`, 'not_a_file');
  return stat.size;
}

/** Where a download goes: `local`, or the remote file's name inside `local` when that is a directory. */
export function downloadDestination(remotePath: string, local: string | undefined): string {
  const name = path.posix.basename(remotePath);
  if (!local) return path.resolve(name);
  try {
    if (fs.statSync(local).isDirectory()) return path.resolve(local, name);
  } catch {
    // Not there yet: the path of the new file.
  }
  return path.resolve(local);
}

/**
 * Writes `dest` through a temporary file in the same directory, renamed into place once `write`
 * has finished: an interrupted or failed transfer leaves no partial file (and an existing file
 * its old content). The temporary file is created first, so an unwritable destination fails
 * before any byte is fetched. The parent directory must exist, as with cp.
 */
export async function writeAtomically(dest: string, write: (out: NodeJS.WritableStream) => Promise<void>): Promise<void> {
  const tmp = path.join(path.dirname(dest), `.${path.basename(dest)}.${crypto.randomBytes(6).toString('hex')}.part`);
  const out = fs.createWriteStream(tmp, { flags: 'wx' });
  try {
    await new Promise<void>((resolve, reject) => {
      out.once('open', () => resolve());
      out.once('error', reject);
    });
  } catch (err) {
    throw fileError(err, `cannot write ${dest}`);
  }
  try {
    await write(out);
    await new Promise<void>((resolve, reject) => {
      out.once('error', reject);
      out.end(() => resolve());
    });
    await fs.promises.rename(tmp, dest).catch((err: unknown) => {
      throw fileError(err, `cannot write ${dest}`);
    });
  } catch (err) {
    out.destroy();
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
}

/** Writes one buffer atomically (saved results). */
export async function writeBytesAtomically(dest: string, bytes: Uint8Array): Promise<void> {
  await writeAtomically(dest, async (out) => {
    if (!out.write(bytes)) await new Promise<void>((r) => out.once('drain', () => r()));
  });
}
