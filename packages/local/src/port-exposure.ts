// An extension to E2B's API: a loopback listener per exposed sandbox port. E2B's
// `getHost(port)` names `<port>-<id>.<domain>`, which browsers and curl resolve for
// *.localhost but Node's and Python's clients (getaddrinfo) do not; this gives a plain
// `http://127.0.0.1:<n>` that any client opens. It forwards raw bytes, so HTTP,
// WebSocket and any TCP protocol work. It closes with the sandbox.
import net from 'node:net';
import type { Sandbox } from './sandbox.js';
import { openTunnel } from './agent-link.js';

export class PortExposer {
  private readonly listeners = new Map<string, { server: net.Server; url: string }>();

  constructor(private readonly host: string) {}

  async expose(sbx: Sandbox, port: number): Promise<string> {
    const key = `${sbx.id}:${port}`;
    const existing = this.listeners.get(key);
    if (existing) return existing.url;
    const server = net.createServer((client) => {
      client.pause();
      openTunnel(sbx.conn.session, port).then(
        (tunnel) => {
          client.pipe(tunnel).pipe(client);
          client.resume();
          const end = () => {
            client.destroy();
            tunnel.destroy();
          };
          client.on('error', end).on('close', end);
          tunnel.on('error', end).on('close', end);
        },
        () => client.destroy(),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, this.host, () => resolve());
    });
    const addr = server.address() as net.AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    const url = `http://${host}:${addr.port}`;
    this.listeners.set(key, { server, url });
    const close = () => {
      server.close();
      this.listeners.delete(key);
    };
    sbx.closers.add(close);
    return url;
  }
}
