// What the runtime tells the agent at start (JSON in E2B_AGENT_CONFIG). The agent trusts
// it: only the runtime starts the agent, and user code never sees this variable.
export interface AgentConfig {
  /** File descriptor of the socket to the runtime (HTTP/2, the agent is the server). */
  controlFd: number;
  /** cgroup.procs files every user process joins before it runs user code. */
  cgroupProcs: string[];
  /** The Python interpreter and the kernel driver for the code interpreter. */
  python: string;
  kernelDriver: string;
  /** Seconds of silence before a keepalive on streams that ask for none. */
  defaultKeepaliveSeconds: number;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AgentConfig {
  const raw = env.E2B_AGENT_CONFIG;
  if (!raw) throw new Error('E2B_AGENT_CONFIG is not set: the agent is started by the runtime');
  const c = JSON.parse(raw) as Partial<AgentConfig>;
  return {
    controlFd: c.controlFd ?? 9,
    cgroupProcs: c.cgroupProcs ?? [],
    python: c.python ?? '/usr/bin/python3',
    kernelDriver: c.kernelDriver ?? '/opt/e2b/python/kernel_driver.py',
    defaultKeepaliveSeconds: c.defaultKeepaliveSeconds ?? 50,
  };
}
