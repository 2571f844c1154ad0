// Files in sandboxes, moved through the official SDK's filesystem API. Large files move as
// streams in both directions, so memory stays bounded by a chunk or two whatever the size.
import { randomBytes } from 'node:crypto';
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
import { boundUploadMemory } from './bounded-upload.js';

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
}

/** Where a call's file is: the sandbox (or the client's default) and the path in it. */
export interface FileTarget {
  sandboxId?: string;
  clientId?: string;
  path: string;
}

export type DownloadPart = { case: 'file'; value: FileEntry } | { case: 'chunk'; value: Uint8Array };

/** The largest chunk an upload may carry and a download sends. */
export const MAX_CHUNK_BYTES = 1024 * 1024;
const MAX_LIST_DEPTH = 10;
/** How long an upload waits after the client's last message for a cancellation to arrive. */
const END_GRACE_MS = 50;
const HOME = '/home/user';

export class Files {
  readonly unaryLimitBytes: number;
  readonly #manager: SandboxManager;
  readonly #listLimit: number;
  readonly #uploadIdleMs: number;

  constructor(options: FilesOptions) {
    this.#manager = options.manager;
    this.unaryLimitBytes = options.unaryLimitBytes ?? 3 * 1024 * 1024;
    this.#listLimit = options.listLimit ?? 10_000;
    this.#uploadIdleMs = options.uploadIdleMs ?? 60_000;
  }

  /**
   * Streams `chunks` into a file. The sandbox side writes atomically (a temporary file
   * renamed into place), so a stream that breaks, a size mismatch or an aborted `signal`
   * aborts the upload and leaves the previous content, if any.
   */
  async upload(tenant: string, target: FileTarget & { sizeBytes?: number }, chunks: AsyncIterable<Uint8Array>, signal?: AbortSignal): Promise<FileEntry> {
    const path = checkPath(target.path);
    if (target.sizeBytes !== undefined && !(target.sizeBytes >= 0)) throw new InvalidArgumentError('size_bytes', 'must not be negative');
    const sandbox = await this.#sandbox(tenant, target);
    // A failed upload must leave the previous file, if any. The HTTP client does not always
    // mark a body it could not finish as broken (when the body stream errors it sometimes ends
    // the chunked body cleanly), so the sandbox cannot tell a cut-off upload from a complete
    // one. The bytes therefore go to a hidden file beside the target, renamed over it only
    // once everything arrived, and removed otherwise. (Sending the body gzip-encoded would
    // also make a cut-off body invalid, but gzip costs several times the transfer's CPU and
    // its stream kept the whole file in memory.) A failure errors the body stream.
    let failure: unknown;
    let body!: ReadableStreamDefaultController<Uint8Array>;
    // Aborting the request resets the connection, so the sandbox drops what it received
    // rather than keeping it; erroring the body alone does not always do that.
    const request = new AbortController();
    const fail = (err: unknown) => {
      if (failure !== undefined) return;
      failure = err;
      request.abort(err);
      try {
        body.error(err);
      } catch {
        // Already closed: everything was sent.
      }
    };
    const cancelled = () => new ToolkitError(ErrorReason.UNSPECIFIED, 'the upload was cancelled; the file was not written');
    const onAbort = () => fail(cancelled());
    const iterator = chunks[Symbol.asyncIterator]();
    const idleMs = this.#uploadIdleMs;
    let total = 0;
    const stream = new ReadableStream<Uint8Array>(
      {
        start(controller) {
          body = controller;
        },
        async pull(controller) {
          let next: IteratorResult<Uint8Array>;
          try {
            next = await withinIdleLimit(iterator.next(), idleMs);
          } catch (err) {
            fail(err);
            return;
          }
          if (failure !== undefined) return;
          if (next.done) {
            // Some clients (connect-node among them) half-close the request before resetting
            // it when a call is cancelled: give the reset a moment to arrive before committing.
            if (signal && !signal.aborted) await settle(signal, END_GRACE_MS);
            if (signal?.aborted) fail(cancelled());
            else if (target.sizeBytes !== undefined && total !== target.sizeBytes) {
              fail(new InvalidArgumentError('size_bytes', `is ${target.sizeBytes} but ${total} bytes were sent`));
            } else controller.close();
            return;
          }
          const chunk = next.value;
          total += chunk.length;
          if (chunk.length > MAX_CHUNK_BYTES) fail(new InvalidArgumentError('chunk', `must be at most ${MAX_CHUNK_BYTES} bytes, got ${chunk.length}`));
          else if (target.sizeBytes !== undefined && total > target.sizeBytes) fail(new InvalidArgumentError('size_bytes', `is ${target.sizeBytes} but more bytes were sent`));
          else if (chunk.length > 0) controller.enqueue(chunk);
        },
        async cancel() {
          await iterator.return?.();
        },
      },
      { highWaterMark: 1 },
    );
    signal?.addEventListener('abort', onAbort);
    if (signal?.aborted) onAbort();
    boundUploadMemory(sandbox);
    const partial = posix.join(posix.dirname(path), `.${posix.basename(path)}.upload-${randomBytes(6).toString('hex')}`);
    try {
      await sdkCall(sandbox, path, () => sandbox.files.write(partial, stream, { requestTimeoutMs: 0, signal: request.signal }));
      if (failure !== undefined) throw failure;
      await sdkCall(sandbox, path, () => sandbox.files.rename(partial, path));
    } catch (err) {
      await sandbox.files.remove(partial).catch(() => {});
      throw failure ?? err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
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
        for (let at = 0; at < data.length; at += MAX_CHUNK_BYTES) {
          yield { case: 'chunk', value: data.subarray(at, at + MAX_CHUNK_BYTES) };
        }
      }
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

/** Resolves when `signal` aborts or after `ms`, whichever is first. */
function settle(signal: AbortSignal, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
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

/** The next message of an upload, or UPLOAD_STALLED when none comes within `idleMs`. */
async function withinIdleLimit<T>(next: Promise<T>, idleMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ToolkitError(ErrorReason.UPLOAD_STALLED, `the upload sent nothing for ${idleMs / 1000} s and was abandoned; the file was not written`)),
      idleMs,
    );
  });
  try {
    return await Promise.race([next, stalled]);
  } finally {
    clearTimeout(timer);
  }
}
