// The agent's only link to the runtime: a socket inherited from the runtime at a fixed
// descriptor, over which the runtime speaks HTTP/2 to us. No path in the sandbox leads
// to it, so user code cannot reach the runtime, and descriptors the agent inherited by
// accident are closed before any user process could inherit them.
import fs from 'node:fs';
import net from 'node:net';

const O_CLOEXEC = 0o2000000;

export function closeInheritedFds(keep: number[]): void {
  for (const name of fs.readdirSync('/proc/self/fd')) {
    const fd = Number(name);
    if (fd <= 2 || keep.includes(fd)) continue;
    try {
      const info = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
      const flags = parseInt(/flags:\s*([0-7]+)/.exec(info)?.[1] ?? '0', 8);
      // Node's own descriptors are close-on-exec; only inherited ones are not.
      if (!(flags & O_CLOEXEC)) fs.closeSync(fd);
    } catch {
      /* the directory listing's own descriptor, already gone */
    }
  }
}

export function openControlSocket(fd: number): net.Socket {
  return new net.Socket({ fd, readable: true, writable: true });
}
