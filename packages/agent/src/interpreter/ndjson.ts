// The /execute response body: NDJSON lines, each sent in one write, with a `keepalive`
// line after every 5 s of silence, and HTTP/2 flow control passed back to the producer.
//
// Lines are pure ASCII (non-ASCII characters as \u escapes): the SDK decodes every
// chunk it receives with a fresh TextDecoder, so a multi-byte character split between
// two chunks by the transport would come out garbled; an escape cannot be split that way.
import type { Http2ServerResponse } from 'node:http2';
import type { OutputLine, Sink } from './runner.js';

const KEEPALIVE_MS = 5000;

function asciiJson(value: unknown): string {
  const json = JSON.stringify(value);
  if (!/[^\x00-\x7f]/.test(json)) return json;
  return json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export class NdjsonResponse implements Sink {
  private ended = false;
  private closed = false;
  private readonly keepalive: NodeJS.Timeout;
  private drainListeners: (() => void)[] = [];
  private abortListeners: (() => void)[] = [];

  constructor(private readonly res: Http2ServerResponse) {
    // Headers go out at once: the SDK's request timeout runs until they arrive.
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    this.keepalive = setInterval(() => this.write({ type: 'keepalive' }), KEEPALIVE_MS);
    res.on('drain', () => this.drained());
    res.on('close', () => {
      this.closed = true;
      clearInterval(this.keepalive);
      if (!this.ended) for (const l of this.abortListeners.splice(0)) l();
      // Nothing more will be written: a paused producer may go on (into the void).
      this.drained();
    });
  }

  /** The client went away before the end of the execution. */
  onAbort(listener: () => void): void {
    if (this.closed && !this.ended) listener();
    else this.abortListeners.push(listener);
  }

  write(line: OutputLine): boolean {
    if (this.closed || this.ended) return true;
    this.keepalive.refresh();
    return this.res.write(asciiJson(line) + '\n');
  }

  onDrain(listener: () => void): void {
    if (this.closed) listener();
    else this.drainListeners.push(listener);
  }

  end(): void {
    if (this.ended) return;
    this.write({ type: 'end_of_execution' });
    this.ended = true;
    clearInterval(this.keepalive);
    this.res.end();
  }

  private drained(): void {
    for (const l of this.drainListeners.splice(0)) l();
  }
}
