// Path resolution the way envd does it: relative paths and `~` start at the user's home.
// The agent runs inside the sandbox's mount namespace, so every path, `..` and symlink
// resolves within the sandbox; nothing here can reach the host's files.
import path from 'node:path';
import { ConnectError, Code } from '@connectrpc/connect';
import type { SandboxUser } from './users.js';

export function resolvePath(p: string, user: SandboxUser): string {
  if (typeof p !== 'string' || p.length === 0) {
    throw new ConnectError('path is required', Code.InvalidArgument);
  }
  if (p.includes('\0')) throw new ConnectError('path contains a NUL byte', Code.InvalidArgument);
  if (p === '~') return user.home;
  if (p.startsWith('~/')) return path.resolve(user.home, p.slice(2));
  return path.resolve(user.home, p);
}
