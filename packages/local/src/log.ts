import pino from 'pino';

export const log = pino({
  level: process.env.E2B_LOCAL_LOG_LEVEL ?? (process.env.VITEST ? 'warn' : 'info'),
  base: { svc: 'e2b-local' },
});
export type Logger = typeof log;
