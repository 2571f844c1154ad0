// A Python context's runner: keeps one live kernel, replacing it when it dies or is
// restarted. A kernel that died after it had run code is replaced at once, so the next
// execution finds a warm one; a kernel that died before running anything is replaced
// only when code asks for it, so a kernel that cannot start does not respawn in a loop.
import { KernelProcess } from './kernel.js';
import { failedExecution, type Execution, type Runner, type Sink } from './runner.js';

export class PythonRunner implements Runner {
  private kernel: KernelProcess | null = null;
  private disposed = false;

  constructor(private readonly spawnKernel: () => KernelProcess) {}

  prewarm(): void {
    try {
      this.live();
    } catch {
      // Reported by the first execution, which tries again.
    }
  }

  run(code: string, env: Record<string, string>, sink: Sink): Execution {
    if (this.disposed) return failedExecution({ name: 'ContextDeletedError', value: 'The context was deleted before this code ran.' });
    let kernel: KernelProcess;
    try {
      kernel = this.live();
    } catch (err) {
      return failedExecution({ name: 'KernelDiedError', value: `The Python kernel could not be started: ${(err as Error).message}` });
    }
    return kernel.execute(code, env, sink);
  }

  async restart(): Promise<void> {
    this.replace('The context was restarted while this code was running. Its state (variables, imports) was lost.');
    const kernel = this.live();
    if (!(await kernel.ready)) throw new Error(kernel.describeDeath());
  }

  dispose(): void {
    this.disposed = true;
    this.replace('The context was deleted while this code was running.');
  }

  private replace(reason: string): void {
    this.kernel?.kill(reason);
    this.kernel = null;
  }

  private live(): KernelProcess {
    if (this.kernel?.alive) return this.kernel;
    const kernel = this.spawnKernel();
    this.kernel = kernel;
    void kernel.exited.then(() => {
      if (this.kernel !== kernel) return;
      this.kernel = null;
      if (kernel.hasRun && !this.disposed) this.prewarm();
    });
    return kernel;
  }
}
