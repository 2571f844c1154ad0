export * from './job-log.js';
