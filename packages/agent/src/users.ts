// The sandbox's two users, as E2B templates have them: `user` (the default) and `root`.
import { ConnectError, Code } from '@connectrpc/connect';

export interface SandboxUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export const ROOT: SandboxUser = { name: 'root', uid: 0, gid: 0, home: '/root' };
export const DEFAULT_USER: SandboxUser = { name: 'user', uid: 1000, gid: 1000, home: '/home/user' };

const USERS = new Map([ROOT, DEFAULT_USER].map((u) => [u.name, u]));

export function userByName(name: string | undefined | null): SandboxUser {
  if (!name) return DEFAULT_USER;
  const u = USERS.get(name);
  if (!u) throw new ConnectError(`user '${name}' does not exist in the sandbox`, Code.Unauthenticated);
  return u;
}

export function userById(uid: number): string {
  for (const u of USERS.values()) if (u.uid === uid) return u.name;
  return String(uid);
}

export function groupById(gid: number): string {
  for (const u of USERS.values()) if (u.gid === gid) return u.name;
  return String(gid);
}

/** The SDK names the acting user in `Authorization: Basic base64("<user>:")`. */
export function userFromAuthorization(header: string | null | undefined): SandboxUser {
  if (!header) return DEFAULT_USER;
  const m = /^Basic\s+(.+)$/i.exec(header.trim());
  if (!m) throw new ConnectError('malformed Authorization header', Code.Unauthenticated);
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const name = decoded.split(':')[0];
  return userByName(name);
}
