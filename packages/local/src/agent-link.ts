// Requests from clients to a sandbox's agent, carried over the agent's HTTP/2 session:
// envd and code-interpreter calls are forwarded as requests, and connections to other
// ports inside the sandbox become CONNECT tunnels the agent opens on the sandbox's own
// loopback.
import http2 from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'te', 'trailer',
  'http2-settings', 'proxy-authorization', 'proxy-authenticate',
]);

/** Headers safe to pass across the HTTP/1.1 ↔ HTTP/2 boundary. */
export function forwardableHeaders(headers: IncomingMessage['headers'] | http2.IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || k.startsWith(':') || HOP_BY_HOP.has(k)) continue;
    out[k] = v as string | string[];
  }
  return out;
}

export class AgentGoneError extends Error {}

/**
 * Forwards one HTTP request to the agent and streams the answer back. Headers go out as
 * soon as the agent sends them (streams must start at once); a client that goes away
 * cancels the agent-side request, which is how the agent learns of disconnects.
 */
export function forwardRequest(
  session: http2.ClientHttp2Session,
  req: IncomingMessage,
  res: ServerResponse,
  port: number,
  onFailure: (err: Error) => void,
): void {
  if (session.closed || session.destroyed) return onFailure(new AgentGoneError('agent session closed'));
  let stream: http2.ClientHttp2Stream;
  try {
    stream = session.request({
      ...forwardableHeaders(req.headers),
      ':method': req.method ?? 'GET',
      ':path': req.url ?? '/',
      'e2b-sandbox-port': String(port),
    });
  } catch (err) {
    return onFailure(new AgentGoneError((err as Error).message));
  }
  req.pipe(stream);
  stream.on('response', (headers) => {
    const status = Number(headers[':status']) || 502;
    res.writeHead(status, forwardableHeaders(headers));
    res.flushHeaders();
    stream.pipe(res, { end: false });
  });
  // Node ends a stream's readable side even when its session is destroyed mid-response (the
  // agent died, the sandbox was killed), so 'end' alone does not mean the agent finished:
  // such a response is cut off, not ended, so that the client sees it broke rather than a
  // short but complete body (a code run would otherwise look like it succeeded).
  stream.on('end', () => {
    if (stream.destroyed || !stream.session || stream.session.destroyed) res.destroy();
    else res.end();
  });
  stream.on('error', (err) => {
    if (!res.headersSent) onFailure(new AgentGoneError(err.message));
    else res.destroy();
  });
  // A session that goes away (the agent died) closes its streams without an 'error'.
  stream.on('close', () => {
    if (!res.headersSent) onFailure(new AgentGoneError(`agent stream closed (code ${stream.rstCode})`));
    else if (!res.writableEnded) res.destroy();
  });
  const cancel = () => {
    if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
  };
  res.on('close', () => {
    if (!res.writableFinished) cancel();
  });
  req.on('aborted', cancel);
}

export class PortClosedError extends Error {
  constructor(readonly port: number) {
    super(`nothing is listening on port ${port} in the sandbox`);
  }
}

/** A byte stream to 127.0.0.1:<port> inside the sandbox. */
export function openTunnel(session: http2.ClientHttp2Session, port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    if (session.closed || session.destroyed) return reject(new AgentGoneError('agent session closed'));
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.request({ ':method': 'CONNECT', ':authority': `127.0.0.1:${port}` });
    } catch (err) {
      return reject(new AgentGoneError((err as Error).message));
    }
    stream.once('response', (headers) => {
      if (headers[':status'] === 200) resolve(stream);
      else {
        stream.close();
        reject(new PortClosedError(port));
      }
    });
    stream.once('error', (err) => reject(new AgentGoneError(err.message)));
    stream.once('close', () => reject(new AgentGoneError(`agent stream closed (code ${stream.rstCode})`)));
  });
}
