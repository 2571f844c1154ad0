// One table from filesystem errno to the error a client sees, for RPC and /files alike.
import { ConnectError, Code } from '@connectrpc/connect';

interface Mapped {
  code: Code;
  http: number;
  what: string;
}

const BY_ERRNO: Record<string, Mapped> = {
  ENOENT: { code: Code.NotFound, http: 404, what: 'does not exist' },
  ENOTDIR: { code: Code.InvalidArgument, http: 400, what: 'has a parent that is not a directory' },
  EISDIR: { code: Code.InvalidArgument, http: 400, what: 'is a directory' },
  EEXIST: { code: Code.AlreadyExists, http: 409, what: 'already exists' },
  ENOTEMPTY: { code: Code.FailedPrecondition, http: 400, what: 'is a non-empty directory' },
  EACCES: { code: Code.PermissionDenied, http: 403, what: 'is not accessible to this user' },
  EPERM: { code: Code.PermissionDenied, http: 403, what: 'is not accessible to this user' },
  EROFS: { code: Code.PermissionDenied, http: 403, what: 'is on a read-only filesystem' },
  ENOSPC: { code: Code.ResourceExhausted, http: 507, what: 'cannot be written: the sandbox disk is full' },
  EDQUOT: { code: Code.ResourceExhausted, http: 507, what: 'cannot be written: the sandbox disk is full' },
  ELOOP: { code: Code.InvalidArgument, http: 400, what: 'has too many levels of symbolic links' },
  ENAMETOOLONG: { code: Code.InvalidArgument, http: 400, what: 'is too long' },
  EXDEV: { code: Code.InvalidArgument, http: 400, what: 'cannot be moved across filesystems' },
  EINVAL: { code: Code.InvalidArgument, http: 400, what: 'is not valid for this operation' },
};

export class FsError extends Error {
  constructor(readonly code: Code, readonly http: number, message: string) {
    super(message);
  }
}

export function mapFsError(err: unknown, p: string): FsError {
  if (err instanceof FsError) return err;
  if (err instanceof ConnectError) return new FsError(err.code, 400, err.rawMessage);
  const errno = (err as NodeJS.ErrnoException)?.code ?? '';
  const m = BY_ERRNO[errno];
  if (m) return new FsError(m.code, m.http, `path '${p}' ${m.what}`);
  return new FsError(Code.Internal, 500, `path '${p}': ${(err as Error)?.message ?? String(err)}`);
}

export function toConnectError(err: unknown, p: string): ConnectError {
  if (err instanceof ConnectError) return err;
  const e = mapFsError(err, p);
  return new ConnectError(e.message, e.code);
}
