// EntryInfo as envd reports it (wire protocol §3.4), from lstat: a symlink is reported
// as a symlink with its target, never followed.
import fs from 'node:fs';
import path from 'node:path';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { FileType } from './gen/filesystem/filesystem_pb.js';
import { groupById, userById } from './users.js';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { EntryInfoSchema } from './gen/filesystem/filesystem_pb.js';

function typeChar(st: fs.Stats): string {
  if (st.isDirectory()) return 'd';
  if (st.isSymbolicLink()) return 'L';
  if (st.isFIFO()) return 'p';
  if (st.isSocket()) return 'S';
  if (st.isCharacterDevice()) return 'c';
  if (st.isBlockDevice()) return 'D';
  return '-';
}

/** Go's FileMode.String(), which envd sends as `permissions`. */
export function permissionString(st: fs.Stats): string {
  const rwx = 'rwxrwxrwx';
  let s = typeChar(st);
  for (let i = 0; i < 9; i++) s += st.mode & (1 << (8 - i)) ? rwx[i] : '-';
  return s;
}

export function fileType(st: fs.Stats): FileType {
  if (st.isSymbolicLink()) return FileType.SYMLINK;
  if (st.isDirectory()) return FileType.DIRECTORY;
  if (st.isFile()) return FileType.FILE;
  return FileType.UNSPECIFIED;
}

export async function entryInfo(p: string, st?: fs.Stats): Promise<MessageInitShape<typeof EntryInfoSchema>> {
  st ??= await fs.promises.lstat(p);
  const info: MessageInitShape<typeof EntryInfoSchema> = {
    name: path.basename(p) || '/',
    type: fileType(st),
    path: p,
    size: BigInt(st.size),
    mode: st.mode & 0o7777,
    permissions: permissionString(st),
    owner: userById(st.uid),
    group: groupById(st.gid),
    modifiedTime: timestampFromMs(Math.floor(st.mtimeMs)),
  };
  if (st.isSymbolicLink()) {
    try {
      (info as { symlinkTarget?: string }).symlinkTarget = await fs.promises.readlink(p);
    } catch {
      /* vanished between lstat and readlink */
    }
  }
  return info;
}
