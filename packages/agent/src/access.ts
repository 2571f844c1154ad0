// The agent acts as sandbox root; when a call names the unprivileged user it checks the
// mode bits itself, the way the kernel would for that user, and makes what it creates
// belong to that user.
import fs from 'node:fs';
import path from 'node:path';
import { FsError } from './fs-errors.js';
import { Code } from '@connectrpc/connect';
import type { SandboxUser } from './users.js';

const R = 4;
const W = 2;
const X = 1;

function allowed(st: fs.Stats, user: SandboxUser, want: number): boolean {
  if (user.uid === 0) return true;
  let bits: number;
  if (st.uid === user.uid) bits = (st.mode >> 6) & 7;
  else if (st.gid === user.gid) bits = (st.mode >> 3) & 7;
  else bits = st.mode & 7;
  return (bits & want) === want;
}

function deny(p: string, user: SandboxUser, what: string): never {
  throw new FsError(Code.PermissionDenied, 403, `user '${user.name}' may not ${what} '${p}'`);
}

/** Every directory from / down to `dir` must be searchable by the user. */
function checkTraverse(dir: string, user: SandboxUser): void {
  if (user.uid === 0) return;
  let cur = '/';
  for (const part of ['', ...dir.split('/').filter(Boolean)]) {
    cur = path.join(cur, part);
    if (!allowed(fs.statSync(cur), user, X)) deny(cur, user, 'enter');
  }
}

export function checkRead(p: string, user: SandboxUser): void {
  if (user.uid === 0) return;
  checkTraverse(path.dirname(p), user);
  const st = fs.statSync(p);
  if (!allowed(st, user, st.isDirectory() ? R | X : R)) deny(p, user, 'read');
}

/** May the user create, replace or remove the entry `p` (its parent must be writable)? */
export function checkWriteEntry(p: string, user: SandboxUser): void {
  if (user.uid === 0) return;
  let parent = path.dirname(p);
  // For mkdir -p style creation, the nearest existing ancestor decides.
  while (!fs.existsSync(parent) && parent !== '/') parent = path.dirname(parent);
  checkTraverse(parent, user);
  if (!allowed(fs.statSync(parent), user, W | X)) deny(p, user, 'write');
}

/** May the user write into the existing file `p`, or create it? */
export function checkWriteFile(p: string, user: SandboxUser): void {
  if (user.uid === 0) return;
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(p);
  } catch {
    return checkWriteEntry(p, user);
  }
  checkTraverse(path.dirname(p), user);
  if (!allowed(st, user, W)) deny(p, user, 'write');
}

/** Creates missing parent directories owned by the user; returns nothing it did not make. */
export async function mkdirpAs(dir: string, user: SandboxUser): Promise<void> {
  const first = await fs.promises.mkdir(dir, { recursive: true });
  if (first === undefined || user.uid === 0) return;
  // Chown every directory that mkdir created: from `first` down to `dir`.
  let cur = first;
  await fs.promises.lchown(cur, user.uid, user.gid);
  const rest = path.relative(first, dir).split('/').filter(Boolean);
  for (const part of rest) {
    cur = path.join(cur, part);
    await fs.promises.lchown(cur, user.uid, user.gid);
  }
}
