// Files in sandboxes, moved through the official SDK's filesystem API. Large files move as
// streams in both directions, so memory stays bounded by a chunk or two whatever the size.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { posix } from 'node:path';
import {
  FileNotFoundError,
  FileType as SdkFileType,
  InvalidArgumentError as SdkInvalidArgumentError,
  NotEnoughSpaceError,
  NotFoundError,
  SandboxError,
  SandboxNotFoundError,
  type EntryInfo,
  type Sandbox,
} from 'e2b';
import { ErrorReason, InvalidArgumentError, ToolkitError } from './errors.js';
import { FileType } from './gen/e2b_toolkit/v1/file_service_pb.js';
import type { SandboxManager } from './sandbox-manager.js';
import { boundUploadMemory, expectUploadSize } from './bounded-upload.js';
import { MAX_CHUNK_BYTES, spoolUpload, uploadBody, type UploadBody } from './upload-stream.js';

export { MAX_CHUNK_BYTES };

/** The size of the chunks DownloadFile sends (the last one may be shorter). */
const DOWNLOAD_CHUNK_BYTES = 256 * 1024;

export { FileType };

/** A file, directory or symbolic link as the API shows it. */
export interface FileEntry {
  name: string;
  path: string;
  type: FileType;
  sizeBytes: number;
  mode: number;
  modifyTime?: Date;
  symlinkTarget: string;
}

export interface FilesOptions {
  manager: SandboxManager;
  /** The most ReadFile and WriteFile move in one message. Default 3 MiB. */
  unaryLimitBytes?: number;
  /** The most entries ListFiles returns. Default 10000. */
  listLimit?: number;
  /**
   * How long an upload may go without a message before it is abandoned (UPLOAD_STALLED),
   * so that a client that stops sending does not hold the upload open forever. Default 60 s.
   */
  uploadIdleMs?: number;
  /** Where uploads of unknown size are spooled to learn their size. Default the OS temp dir. */
  spoolDir?: string;
  /** The largest upload of unknown size. Default 8 GiB. */
  maxSpoolBytes?: number;
}

/** Where a call's file is: the sandbox (or the client's default) and the path in it. */
export interface FileTarget {
  sandboxId?: string;
  clientId?: string;
  path: string;
}

export type DownloadPart = { case: 'file'; value: FileEntry } | { case: 'chunk'; value: Uint8Array };

const MAX_LIST_DEPTH = 10;
const HOME = '/home/user';

export class Files {
  readonly unaryLimitBytes: number;
  readonly #manager: SandboxManager;
  readonly #listLimit: number;
  readonly #uploadIdleMs: number;
  readonly #spoolDir: string;
  readonly #maxSpoolBytes: number;

  constructor(options: FilesOptions) {
    this.#manager = options.manager;
    this.unaryLimitBytes = options.unaryLimitBytes ?? 3 * 1024 * 1024;
    this.#listLimit = options.listLimit ?? 10_000;
    this.#uploadIdleMs = options.uploadIdleMs ?? 60_000;
    this.#spoolDir = options.spoolDir ?? os.tmpdir();
    this.#maxSpoolBytes = options.maxSpoolBytes ?? 8 * 1024 ** 3;
  }

  /**
   * Streams `chunks` into a file. The file appears whole or not at all: the bytes go to a
   * hidden file beside the target, renamed over it only once every byte arrived and was
   * written, and removed otherwise, so a stream that breaks, stalls, is cancelled or sends
   * another size than `sizeBytes` leaves the previous content, if any. Without `sizeBytes`
   * the upload is spooled to local disk first (see upload-stream.ts).
   */
  async upload(tenant: string, target: FileTarget & { sizeBytes?: number }, chunks: AsyncIterable<Uint8Array>, signal?: AbortSignal): Promise<FileEntry> {
    const path = checkPath(target.path);
    if (target.sizeBytes !== undefined && !(target.sizeBytes >= 0 && Number.isSafeInteger(target.sizeBytes))) {
      throw new InvalidArgumentError('size_bytes', 'must not be negative');
    }
    const sandbox = await this.#sandbox(tenant, target);
    const limits = { idleMs: this.#uploadIdleMs, signal };
    if (target.sizeBytes !== undefined) return this.#send(sandbox, path, uploadBody(chunks, target.sizeBytes, limits));
    const spooled = await spoolUpload(chunks, this.#spoolDir, this.#maxSpoolBytes, limits);
    try {
      const fromDisk = fs.createReadStream(spooled.file, { highWaterMark: MAX_CHUNK_BYTES });
      return await this.#send(sandbox, path, uploadBody(fromDisk, spooled.sizeBytes, limits));
    } finally {
      await fs.promises.rm(spooled.file, { force: true });
    }
  }

  /** Writes a checked body to a hidden file beside `path`, then renames it over `path`. */
  async #send(sandbox: Sandbox, path: string, body: UploadBody): Promise<FileEntry> {
    boundUploadMemory(sandbox);
    const partial = posix.join(posix.dirname(path), `.${posix.basename(path)}.upload-${randomBytes(6).toString('hex')}`);
    const forget = expectUploadSize(partial, body.sizeBytes);
    try {
      await sdkCall(sandbox, path, () => sandbox.files.write(partial, body.stream, { requestTimeoutMs: 0, signal: body.requestSignal }));
      if (body.failure() !== undefined) throw body.failure();
      await sdkCall(sandbox, path, () => sandbox.files.rename(partial, path));
    } catch (err) {
      // Only a complete body can have made the hidden file, and then the write has returned.
      if (body.complete()) await sandbox.files.remove(partial).catch(() => {});
      throw body.failure() ?? err;
    } finally {
      forget();
      body.dispose();
    }
    return this.#stat(sandbox, path);
  }

  /** The file's description, then its bytes from `offset` in chunks of at most 1 MiB. */
  async *download(tenant: string, target: FileTarget & { offset?: number }, signal?: AbortSignal): AsyncGenerator<DownloadPart> {
    const path = checkPath(target.path);
    const offset = target.offset ?? 0;
    if (!(offset >= 0) || !Number.isSafeInteger(offset)) throw new InvalidArgumentError('offset', 'must not be negative');
    const sandbox = await this.#sandbox(tenant, target);
    const file = await this.#stat(sandbox, path);
    checkIsFile(file);
    yield { case: 'file', value: file };
    const abort = new AbortController();
    const onAbort = () => abort.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort);
    if (signal?.aborted) onAbort();
    const stream = await sdkCall(sandbox, path, () => sandbox.files.read(path, { format: 'stream', signal: abort.signal }));
    const reader = stream.getReader();
    let done = false;
    // The HTTP client hands over the body in pieces of a few KiB; sent one message each, a
    // large file would cost tens of thousands of messages. They are gathered into chunks
    // of DOWNLOAD_CHUNK_BYTES instead.
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    const take = (): Uint8Array => {
      const chunk = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      return chunk;
    };
    try {
      let skip = offset;
      for (;;) {
        const next = await sdkCall(sandbox, path, () => reader.read());
        if (next.done) {
          done = true;
          break;
        }
        let data = next.value;
        if (skip > 0) {
          const n = Math.min(skip, data.length);
          skip -= n;
          data = data.subarray(n);
        }
        if (data.length === 0) continue;
        pending.push(data);
        pendingBytes += data.length;
        while (pendingBytes >= DOWNLOAD_CHUNK_BYTES) {
          const all = take();
          yield { case: 'chunk', value: all.subarray(0, DOWNLOAD_CHUNK_BYTES) };
          if (all.length > DOWNLOAD_CHUNK_BYTES) {
            pending.push(all.subarray(DOWNLOAD_CHUNK_BYTES));
            pendingBytes = all.length - DOWNLOAD_CHUNK_BYTES;
          }
        }
      }
      if (pendingBytes > 0) yield { case: 'chunk', value: take() };
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (!done) {
        abort.abort();
        await reader.cancel().catch(() => {});
      }
      reader.releaseLock();
    }
  }

  /** A whole small file. */
  async read(tenant: string, target: FileTarget): Promise<{ file: FileEntry; content: Uint8Array }> {
    const path = checkPath(target.path);
    const sandbox = await this.#sandbox(tenant, target);
    const file = await this.#stat(sandbox, path);
    checkIsFile(file);
    const tooLarge = () =>
      new ToolkitError(ErrorReason.PAYLOAD_TOO_LARGE, `${path} is larger than ${this.unaryLimitBytes} bytes: use DownloadFile`, { path });
    if (file.sizeBytes > this.unaryLimitBytes) throw tooLarge();
    const abort = new AbortController();
    const stream = await sdkCall(sandbox, path, () => sandbox.files.read(path, { format: 'stream', signal: abort.signal }));
    const reader = stream.getReader();
    const parts: Uint8Array[] = [];
    let total = 0;
    try {
      for (;;) {
        const next = await sdkCall(sandbox, path, () => reader.read());
        if (next.done) break;
        total += next.value.length;
        // The file grew since it was looked at.
        if (total > this.unaryLimitBytes) throw tooLarge();
        parts.push(next.value);
      }
    } catch (err) {
      abort.abort();
      await reader.cancel().catch(() => {});
      throw err;
    }
    const content = Buffer.concat(parts);
    return { file: { ...file, sizeBytes: content.length }, content: new Uint8Array(content.buffer, content.byteOffset, content.byteLength) };
  }

  /** Writes a whole small file, creating missing parent directories. */
  async write(tenant: string, target: FileTarget, content: Uint8Array): Promise<FileEntry> {
    const path = checkPath(target.path);
    if (content.length > this.unaryLimitBytes) {
      throw new ToolkitError(ErrorReason.PAYLOAD_TOO_LARGE, `the content is larger than ${this.unaryLimitBytes} bytes: use UploadFile`, { path });
    }
    const sandbox = await this.#sandbox(tenant, target);
    const data = content.buffer.slice(content.byteOffset, content.byteOffset + content.byteLength) as ArrayBuffer;
    await sdkCall(sandbox, path, () => sandbox.files.write(path, data));
    return this.#stat(sandbox, path);
  }

  /** A directory's entries, `depth` levels down; each level's before the next, by path. */
  async list(tenant: string, target: FileTarget & { depth?: number }): Promise<{ entries: FileEntry[]; truncated: boolean }> {
    const path = target.path === '' ? HOME : checkPath(target.path);
    const depth = target.depth || 1;
    if (!Number.isInteger(depth) || depth < 1 || depth > MAX_LIST_DEPTH) throw new InvalidArgumentError('depth', `must be between 0 and ${MAX_LIST_DEPTH}`);
    const sandbox = await this.#sandbox(tenant, target);
    const dir = await this.#stat(sandbox, path);
    if (dir.type !== FileType.DIRECTORY) {
      throw new ToolkitError(ErrorReason.NOT_A_DIRECTORY, `${dir.path} is not a directory`, { path: dir.path });
    }
    const infos = await sdkCall(sandbox, path, () => sandbox.files.list(path, { depth }));
    const entries = infos
      .map(entryOf)
      .map((e) => ({ e, level: e.path.split('/').length }))
      .sort((a, b) => a.level - b.level || (a.e.path < b.e.path ? -1 : a.e.path > b.e.path ? 1 : 0))
      .map(({ e }) => e);
    const truncated = entries.length > this.#listLimit;
    return { entries: truncated ? entries.slice(0, this.#listLimit) : entries, truncated };
  }

  async #sandbox(tenant: string, target: FileTarget): Promise<Sandbox> {
    return this.#manager.sandbox(tenant, target.clientId ?? '', target.sandboxId ?? '');
  }

  async #stat(sandbox: Sandbox, path: string): Promise<FileEntry> {
    return entryOf(await sdkCall(sandbox, path, () => sandbox.files.getInfo(path)));
  }
}

/** Paths are resolved inside the sandbox; here they only need to be something. */
export function checkPath(path: string, field = 'path'): string {
  if (!path) throw new InvalidArgumentError(field, 'is required');
  if (path.includes('\0')) throw new InvalidArgumentError(field, 'must not contain NUL');
  if (Buffer.byteLength(path) > 4096) throw new InvalidArgumentError(field, 'must be at most 4096 bytes');
  return path;
}

function checkIsFile(file: FileEntry): void {
  if (file.type === FileType.DIRECTORY) throw new ToolkitError(ErrorReason.IS_A_DIRECTORY, `${file.path} is a directory`, { path: file.path });
}

function entryOf(info: EntryInfo): FileEntry {
  return {
    name: info.name,
    path: info.path,
    type: info.type === SdkFileType.DIR ? FileType.DIRECTORY : info.type === SdkFileType.SYMLINK ? FileType.SYMLINK : FileType.FILE,
    sizeBytes: Number(info.size ?? 0),
    mode: info.mode & 0o7777,
    modifyTime: info.modifiedTime,
    symlinkTarget: info.symlinkTarget ?? '',
  };
}

/** Runs an SDK file call, translating its errors into the API's. */
async function sdkCall<T>(sandbox: Sandbox, path: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw fileError(sandbox, path, err);
  }
}

function fileError(sandbox: Sandbox, path: string, err: unknown): unknown {
  if (err instanceof ToolkitError || err instanceof InvalidArgumentError) return err;
  const message = (err as Error)?.message ?? String(err);
  const meta = { path, sandbox_id: sandbox.sandboxId };
  if (err instanceof FileNotFoundError) return new ToolkitError(ErrorReason.FILE_NOT_FOUND, `no file ${path}`, meta, { cause: err });
  if (err instanceof NotEnoughSpaceError) return new ToolkitError(ErrorReason.SANDBOX_DISK_FULL, `the sandbox is out of disk space: ${message}`, meta, { cause: err });
  if (/permission denied/i.test(message)) return new ToolkitError(ErrorReason.FILE_PERMISSION_DENIED, `permission denied: ${path}`, meta, { cause: err });
  if (/not a directory/i.test(message)) return new ToolkitError(ErrorReason.NOT_A_DIRECTORY, `a parent of ${path} is not a directory`, meta, { cause: err });
  if (/is a directory/i.test(message)) return new ToolkitError(ErrorReason.IS_A_DIRECTORY, `${path} is a directory`, meta, { cause: err });
  if (err instanceof SdkInvalidArgumentError) return new InvalidArgumentError('path', message);
  if (err instanceof SandboxNotFoundError) {
    return new ToolkitError(ErrorReason.SANDBOX_NOT_FOUND, `sandbox ${sandbox.sandboxId} is gone`, { sandbox_id: sandbox.sandboxId }, { cause: err });
  }
  // The SDK reports a missing file on some calls as a plain NotFoundError.
  if (err instanceof NotFoundError) return new ToolkitError(ErrorReason.FILE_NOT_FOUND, `no file ${path}`, meta, { cause: err });
  if (err instanceof SandboxError && /no such file|not found|does not exist/i.test(message)) {
    return new ToolkitError(ErrorReason.FILE_NOT_FOUND, `no file ${path}`, meta, { cause: err });
  }
  return err;
}
