// Local files written all at once or not at all: downloads (the wrapper's and the CLI's) go
// through a temporary sibling renamed into place when complete, so an interrupted or failed
// transfer leaves no partial file, and an existing file keeps its old content.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface AtomicWriteOptions {
  /** Create missing parent directories. Default: the parent must exist (as with cp). */
  makeParents?: boolean;
  /** Turns a local file error (creating the temporary file, renaming it) into the one to throw. */
  fileError?: (err: unknown) => unknown;
}

/**
 * Writes `dest` with `write`. The temporary file is created first, so an unwritable
 * destination fails before `write` fetches anything.
 */
export async function writeAtomically<T>(dest: string, write: (out: fs.WriteStream) => Promise<T>, options: AtomicWriteOptions = {}): Promise<T> {
  const asFileError = options.fileError ?? ((err: unknown) => err);
  if (options.makeParents) await fs.promises.mkdir(path.dirname(dest), { recursive: true });
  const tmp = path.join(path.dirname(dest), `.${path.basename(dest)}.${crypto.randomBytes(6).toString('hex')}.part`);
  const out = fs.createWriteStream(tmp, { flags: 'wx' });
  try {
    await new Promise<void>((resolve, reject) => {
      out.once('open', () => resolve());
      out.once('error', reject);
    });
  } catch (err) {
    throw asFileError(err);
  }
  try {
    const result = await write(out);
    await new Promise<void>((resolve, reject) => {
      out.once('error', reject);
      out.end(() => resolve());
    });
    await fs.promises.rename(tmp, dest).catch((err: unknown) => {
      throw asFileError(err);
    });
    return result;
  } catch (err) {
    out.destroy();
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
}
