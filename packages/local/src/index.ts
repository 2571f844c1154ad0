export { startLocalRuntime, type LocalRuntime } from './runtime.js';
export { loadConfig, DEFAULT_LIMITS, type RuntimeConfig, type SandboxLimits } from './config.js';
export { LIMIT_METADATA } from './control-plane.js';
export { fileSignature } from './sandbox-proxy.js';
export { stopOnSignals } from './stop-on-signals.js';
