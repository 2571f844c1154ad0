// Puts a kernel's stdout, stderr and events back into the order the kernel produced them.
//
// Before each event the driver writes a sync marker (prefix + 12 hex digits of the
// event's sequence number) on both output pipes (see kernel_driver.py, Channel). An
// event is released once both pipes have reached its marker, and a pipe's output after
// a marker waits until that marker's event has been released. Markers are stripped,
// also when split across chunks. Output is decoded as UTF-8 by a streaming decoder, so
// binary garbage turns into U+FFFD instead of breaking the stream.
import { StringDecoder } from 'node:string_decoder';

export type StreamName = 'stdout' | 'stderr';

export interface SequencedEvent {
  seq: number;
}

export interface SequencerOutput<E extends SequencedEvent> {
  output(stream: StreamName, text: string): void;
  event(ev: E): void;
  /** A pipe is waiting for an event (blocked) or may flow again: pause or resume it. */
  blocked(stream: StreamName, blocked: boolean): void;
}

const SEQ_DIGITS = 12;
const SEQ_PATTERN = /^[0-9a-f]{12}$/;

type Segment = Buffer | number;

/** Splits a byte stream into output bytes and marker sequence numbers. */
export class MarkerScanner {
  private pending: Buffer | null = null;
  private readonly markerLength: number;

  constructor(private readonly prefix: Buffer) {
    this.markerLength = prefix.length + SEQ_DIGITS;
  }

  push(chunk: Buffer): Segment[] {
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = null;
    const out: Segment[] = [];
    let pos = 0;
    for (;;) {
      const at = buf.indexOf(this.prefix, pos);
      if (at < 0) break;
      if (at + this.markerLength > buf.length) {
        this.keep(buf, pos, at, out);
        return out;
      }
      const digits = buf.toString('latin1', at + this.prefix.length, at + this.markerLength);
      if (!SEQ_PATTERN.test(digits)) {
        // Looks like a marker but is not one: ordinary output.
        out.push(buf.subarray(pos, at + this.prefix.length));
        pos = at + this.prefix.length;
        continue;
      }
      if (at > pos) out.push(buf.subarray(pos, at));
      out.push(parseInt(digits, 16));
      pos = at + this.markerLength;
    }
    this.keep(buf, pos, buf.length - this.partialPrefixAtEnd(buf, pos), out);
    return out;
  }

  /** Bytes held back because they might have started a marker. */
  end(): Buffer | null {
    const rest = this.pending;
    this.pending = null;
    return rest;
  }

  private keep(buf: Buffer, pos: number, cut: number, out: Segment[]): void {
    if (cut > pos) out.push(buf.subarray(pos, cut));
    // A copy, so a small remainder does not pin a whole chunk in memory.
    if (cut < buf.length) this.pending = Buffer.from(buf.subarray(cut));
  }

  /** Length of the longest tail of buf[pos..] that is a proper prefix of the marker prefix. */
  private partialPrefixAtEnd(buf: Buffer, pos: number): number {
    const max = Math.min(this.prefix.length - 1, buf.length - pos);
    for (let k = max; k > 0; k--) {
      if (buf[buf.length - k] === this.prefix[0] && buf.subarray(buf.length - k).equals(this.prefix.subarray(0, k))) {
        return k;
      }
    }
    return 0;
  }
}

class Pipe {
  readonly decoder = new StringDecoder('utf8');
  /** Scanned but not yet delivered: output, and markers whose event is not released. */
  held: Segment[] = [];
  /** The last marker this pipe has reached. */
  reached = 0;
  blocked = false;

  constructor(readonly scanner: MarkerScanner) {}
}

export class Sequencer<E extends SequencedEvent> {
  private released = 0;
  private forced = false;
  private readonly events: E[] = [];
  private readonly pipes: Record<StreamName, Pipe>;

  constructor(prefix: string, private readonly out: SequencerOutput<E>) {
    const bytes = Buffer.from(prefix, 'latin1');
    this.pipes = { stdout: new Pipe(new MarkerScanner(bytes)), stderr: new Pipe(new MarkerScanner(bytes)) };
  }

  pushOutput(stream: StreamName, chunk: Buffer): void {
    const pipe = this.pipes[stream];
    for (const seg of pipe.scanner.push(chunk)) pipe.held.push(seg);
    this.deliver(stream);
    this.releaseEvents();
  }

  pushEvent(ev: E): void {
    this.events.push(ev);
    this.releaseEvents();
  }

  /** Emits text a decoder still holds (an incomplete UTF-8 sequence, as U+FFFD). */
  flushDecoders(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      const text = this.pipes[stream].decoder.end();
      if (text) this.out.output(stream, text);
    }
  }

  /** The kernel is gone: deliver everything left, in the best order still known. */
  finish(): void {
    this.forced = true;
    for (const stream of ['stdout', 'stderr'] as const) {
      const rest = this.pipes[stream].scanner.end();
      if (rest) this.pipes[stream].held.push(rest);
    }
    this.releaseEvents();
    this.deliver('stdout');
    this.deliver('stderr');
    this.flushDecoders();
  }

  private releaseEvents(): void {
    while (this.events.length) {
      const ev = this.events[0];
      const ready = this.forced || (this.pipes.stdout.reached >= ev.seq && this.pipes.stderr.reached >= ev.seq);
      if (!ready) return;
      this.events.shift();
      this.released = ev.seq;
      this.out.event(ev);
      this.deliver('stdout');
      this.deliver('stderr');
    }
  }

  /** Delivers a pipe's held output up to the first marker whose event is still missing. */
  private deliver(stream: StreamName): void {
    const pipe = this.pipes[stream];
    let i = 0;
    for (; i < pipe.held.length; i++) {
      const seg = pipe.held[i];
      if (typeof seg === 'number') {
        pipe.reached = Math.max(pipe.reached, seg);
        if (seg > this.released && !this.forced) break;
        continue;
      }
      const text = pipe.decoder.write(seg);
      if (text) this.out.output(stream, text);
    }
    pipe.held = i === 0 ? pipe.held : pipe.held.slice(i);
    const blocked = pipe.held.length > 0;
    if (blocked !== pipe.blocked) {
      pipe.blocked = blocked;
      this.out.blocked(stream, blocked);
    }
  }
}
