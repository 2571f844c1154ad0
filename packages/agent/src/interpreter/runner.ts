// What every language runner provides, and the NDJSON lines an execution produces
// (the wire shapes of protocol reference §4.2).

export type OutputLine =
  | { type: 'stdout' | 'stderr'; text: string; timestamp: string }
  | ({ type: 'result'; is_main_result: boolean } & Record<string, unknown>)
  | { type: 'error'; name: string; value: string; traceback: string }
  | { type: 'number_of_executions'; execution_count: number }
  | { type: 'end_of_execution' }
  | { type: 'keepalive' };

/** Where an execution's lines go. `write` returning false asks the producer to pause. */
export interface Sink {
  write(line: OutputLine): boolean;
  /** Called once the sink accepts writes again (or will never need them: client gone). */
  onDrain(listener: () => void): void;
}

/** Why an execution ended abnormally, reported to the client as its `error` line. */
export interface EndError {
  name: string;
  value: string;
}

export interface Execution {
  /** Resolves when user code begins to run (after the kernel started and took the code). */
  readonly started: Promise<void>;
  /** Resolves when the execution is over: null, or why it ended abnormally. */
  readonly finished: Promise<EndError | null>;
  /** Asks the code to stop, as Ctrl-C would. */
  interrupt(): void;
  /** Stops it by force; `finished` then reports what was lost. */
  kill(): void;
}

export interface Runner {
  /** Starts what the first execution will need, so it does not wait for it. */
  prewarm(): void;
  /** Runs code; the caller runs one execution at a time per runner. */
  run(code: string, env: Record<string, string>, sink: Sink): Execution;
  /** Discards all state; resolves once the runner is ready again. */
  restart(): Promise<void>;
  dispose(): void;
}

export function streamLine(stream: 'stdout' | 'stderr', text: string): OutputLine {
  return { type: stream, text, timestamp: new Date().toISOString() };
}

/** An execution that could not start: it ends at once with `end` as its error. */
export function failedExecution(end: EndError): Execution {
  return { started: new Promise(() => {}), finished: Promise.resolve(end), interrupt: () => {}, kill: () => {} };
}
