// e2b-toolkit sandbox create | list | info | connect | timeout | kill, against a real server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolkitServer } from '../../services/toolkit/src/server.js';
import { cliEnv, errorCodeOf, jsonOf, OTHER_KEY, runCli, startServer } from './cli.js';

let server: ToolkitServer;

beforeAll(async () => {
  server = await startServer('sandbox');
});

afterAll(async () => {
  await server?.close();
});

describe('e2b-toolkit sandbox', () => {
  it('creates a sandbox that later invocations list, inspect and kill', async () => {
    const env = cliEnv(server);
    const created = await runCli(['sandbox', 'create', '--timeout', '120', '-m', 'purpose=cli-test', '-m', 'owner=me'], { env });
    expect(created).toMatchObject({ code: 0, stderr: '' });
    const id = created.stdout.trim();
    expect(id).toMatch(/^[a-z0-9]+$/);

    // Another invocation, same key: the same (stable) client id, so the list shows it.
    const listed = await runCli(['sandbox', 'list'], { env });
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^SANDBOX\s+STATE\s+CREATED\s+EXPIRES\s+METADATA\n/);
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).toContain('purpose=cli-test');

    const listedJson = jsonOf(await runCli(['--json', 'sandbox', 'list'], { env }));
    expect(listedJson).toMatchObject({ status: 'success', count: 1 });
    expect(listedJson.sandboxes[0]).toMatchObject({ sandbox_id: id, state: 'running', metadata: { purpose: 'cli-test', owner: 'me' } });

    const info = await runCli(['sandbox', 'info', id], { env });
    expect(info.code).toBe(0);
    expect(info.stdout).toMatch(new RegExp(`^sandbox\\s+${id}$`, 'm'));
    expect(info.stdout).toMatch(/^state\s+running$/m);

    // --sandbox and E2B_TOOLKIT_SANDBOX select it too.
    expect(jsonOf(await runCli(['--json', '--sandbox', id, 'sandbox', 'info'], { env }))).toMatchObject({ sandbox_id: id });
    const before = jsonOf(await runCli(['--json', 'sandbox', 'info'], { env: { ...env, E2B_TOOLKIT_SANDBOX: id } }));
    const extended = jsonOf(await runCli(['--json', 'sandbox', 'timeout', '600', id], { env }));
    expect(Date.parse(extended.expire_time)).toBeGreaterThan(Date.parse(before.expire_time));

    // Another key does not see it at all.
    const other = jsonOf(await runCli(['--json', 'sandbox', 'list', '--all'], { env: cliEnv(server, { E2B_TOOLKIT_API_KEY: OTHER_KEY }) }));
    expect(other.sandboxes.map((s: { sandbox_id: string }) => s.sandbox_id)).not.toContain(id);
    const otherInfo = await runCli(['sandbox', 'info', id], { env: cliEnv(server, { E2B_TOOLKIT_API_KEY: OTHER_KEY }) });
    expect(otherInfo.code).toBe(1);
    expect(errorCodeOf(otherInfo)).toBe('not_found');

    const killed = await runCli(['sandbox', 'kill', id], { env });
    expect(killed).toMatchObject({ code: 0, stdout: `${id}\n` });
    const gone = await runCli(['sandbox', 'info', id], { env });
    expect(gone.code).toBe(1);
    expect(errorCodeOf(gone)).toBe('not_found');
    expect(jsonOf(await runCli(['--json', 'sandbox', 'list'], { env }))).toMatchObject({ count: 0, sandboxes: [] });
  });

  it('lists per client id; connect adopts a sandbox; kill --all shuts down what this client manages', async () => {
    const env = cliEnv(server);
    const mine = jsonOf(await runCli(['--json', 'sandbox', 'create'], { env }));
    const theirsEnv = cliEnv(server, { E2B_TOOLKIT_CLIENT_ID: 'another-agent' });
    const theirs = (await runCli(['sandbox', 'create'], { env: theirsEnv })).stdout.trim();

    const ids = async (args: string[], e = env) => (jsonOf(await runCli(['--json', 'sandbox', 'list', ...args], { env: e })).sandboxes as { sandbox_id: string }[]).map((s) => s.sandbox_id);
    expect(await ids([])).toEqual([mine.sandbox_id]);
    expect(await ids([], theirsEnv)).toEqual([theirs]);
    expect(await ids(['--all'])).toEqual(expect.arrayContaining([mine.sandbox_id, theirs]));

    const connected = await runCli(['sandbox', 'connect', theirs], { env });
    expect(connected).toMatchObject({ code: 0, stdout: `${theirs}\n` });
    expect((await ids([])).sort()).toEqual([mine.sandbox_id, theirs].sort());

    const all = await runCli(['--json', 'sandbox', 'kill', '--all'], { env });
    expect(all.code).toBe(0);
    expect(jsonOf(all)).toMatchObject({ status: 'success', count: 2 });
    expect(await ids([])).toEqual([]);
    expect(await ids([], theirsEnv)).toEqual([]);
  });

  it('refuses kill with both an id and --all, and commands without a sandbox', async () => {
    const env = cliEnv(server);
    const both = await runCli(['sandbox', 'kill', 'abc', '--all'], { env });
    expect(both.code).toBe(2);
    expect(errorCodeOf(both)).toBe('usage');
    const none = await runCli(['sandbox', 'info'], { env });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no sandbox selected: pass --sandbox ID or set E2B_TOOLKIT_SANDBOX/);
    expect(errorCodeOf(none)).toBe('no_sandbox');
  });
});
