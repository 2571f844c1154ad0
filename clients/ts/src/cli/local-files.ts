// The local side of file transfers: reading inputs and writing outputs without half-written files.
import fs from 'node:fs';
import path from 'node:path';
import { writeAtomically as writeFile } from '../atomic-write.js';
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

/** Writes `dest` whole or not at all (see atomic-write.ts); the parent directory must exist, as with cp. */
export function writeAtomically(dest: string, write: (out: NodeJS.WritableStream) => Promise<void>): Promise<void> {
  return writeFile(dest, write, { fileError: (err) => fileError(err, `cannot write ${dest}`) });
}

/** Writes one buffer atomically (saved results). */
export async function writeBytesAtomically(dest: string, bytes: Uint8Array): Promise<void> {
  await writeAtomically(dest, async (out) => {
    if (!out.write(bytes)) await new Promise<void>((r) => out.once('drain', () => r()));
  });
}
