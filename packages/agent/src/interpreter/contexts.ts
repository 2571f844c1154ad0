// The context table: each context is one runner (for Python, one long-lived kernel
// process with its own state and cwd) plus the queue its executions wait in. Each
// language has a default context, used by executions that name no context; Python's
// exists from the start so that it can be prewarmed.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { FifoLock } from './fifo.js';
import { HttpError } from './http.js';
import type { Runner } from './runner.js';

export type Language = 'python' | 'bash';

const LANGUAGES: Record<string, Language> = { python: 'python', python3: 'python', bash: 'bash' };

/** No language means Python, as in the SDK. JavaScript, TypeScript, R and Java are not available. */
export function parseLanguage(raw: unknown): Language {
  if (raw === undefined || raw === null || raw === '') return 'python';
  if (typeof raw !== 'string') throw new HttpError(400, 'language must be a string');
  const language = LANGUAGES[raw.toLowerCase()];
  if (!language) throw new HttpError(400, `language '${raw}' is not supported in this sandbox (supported: python, bash)`);
  return language;
}

export class Context {
  readonly queue = new FifoLock();

  constructor(
    readonly id: string,
    readonly language: Language,
    readonly cwd: string,
    readonly runner: Runner,
  ) {}

  toJSON() {
    return { id: this.id, language: this.language, cwd: this.cwd };
  }
}

export class ContextTable {
  private readonly byId = new Map<string, Context>();
  private readonly defaults = new Map<Language, Context>();

  constructor(
    private readonly makeRunner: (language: Language, cwd: string) => Runner,
    private readonly home: string,
  ) {
    this.defaultFor('python');
  }

  create(language: Language, cwd?: unknown): Context {
    const dir = cwd === undefined || cwd === null || cwd === '' ? this.home : this.checkDir(cwd);
    const context = new Context(randomUUID(), language, dir, this.makeRunner(language, dir));
    this.byId.set(context.id, context);
    return context;
  }

  private checkDir(cwd: unknown): string {
    if (typeof cwd !== 'string') throw new HttpError(400, 'cwd must be a string');
    const dir = path.resolve(this.home, cwd);
    let isDir = false;
    try {
      isDir = fs.statSync(dir).isDirectory();
    } catch {
      // reported below
    }
    if (!isDir) throw new HttpError(400, `cwd '${dir}' is not an existing directory`);
    return dir;
  }

  get(id: string): Context {
    const context = this.byId.get(id);
    if (!context) throw new HttpError(404, `Context ${id} not found`);
    return context;
  }

  defaultFor(language: Language): Context {
    let context = this.defaults.get(language);
    if (!context) {
      context = this.create(language);
      this.defaults.set(language, context);
    }
    return context;
  }

  list(): Context[] {
    return [...this.byId.values()];
  }

  remove(id: string): void {
    const context = this.get(id);
    this.byId.delete(id);
    if (this.defaults.get(context.language) === context) this.defaults.delete(context.language);
    context.runner.dispose();
  }

  disposeAll(): void {
    for (const context of this.byId.values()) context.runner.dispose();
    this.byId.clear();
    this.defaults.clear();
  }
}
