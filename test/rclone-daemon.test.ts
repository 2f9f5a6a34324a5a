/**
 * The rclone daemon a destination sends, lists and removes through (src/destinations/rclone-daemon.ts), with the
 * machine's real rclone on a local remote: it starts whatever the operator's rclone log settings, stops when idle
 * and starts again, says a daemon that never listens, and passes rclone's own refusals on.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { CommandError, DestinationError } from '../src/core/errors.js';
import type { SpawnSpec } from '../src/exec/spawn.js';
import { RcloneDaemon } from '../src/destinations/rclone-daemon.js';
import { rcloneFailure } from '../src/destinations/rclone-errors.js';
import { RcloneDestination } from '../src/destinations/rclone.js';
import { REPO_ROOT, waitFor } from './helpers/cli.js';
import { makeTmpDir } from './helpers/tmp.js';

const closing = new AbortController();

function spec(env: Record<string, string> = {}, command = 'rclone'): (args: string[]) => SpawnSpec {
  return (args) => ({ command, args, env, signal: closing.signal });
}

const PATH_AT_START = process.env['PATH'];
const SLEEP = spawnSync('sh', ['-c', 'command -v sleep'], { encoding: 'utf8' }).stdout.trim();

/**
 * A PATH with rclone and without setpriv (a folder holding a link to rclone alone): the daemon is then run through
 * its watching shell, as on a system without util-linux's setpriv.
 */
function pathWithoutSetpriv(): string {
  const bin = makeTmpDir('respaldo-rcd-bin-');
  const rclone = spawnSync('sh', ['-c', 'command -v rclone'], { encoding: 'utf8' }).stdout.trim();
  symlinkSync(rclone, join(bin, 'rclone'));
  return bin;
}

/** The processes named `name` whose environment holds `variable` (`NAME=` or `NAME=value`). */
function withVariable(name: string, variable: string): string[] {
  return spawnSync('pgrep', ['-x', name], { encoding: 'utf8', env: { ...process.env, PATH: PATH_AT_START } })
    .stdout.split('\n')
    .filter(Boolean)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'latin1')
          .split('\0')
          .some((v) => v.startsWith(variable));
      } catch {
        return false;
      }
    });
}

const alive = (pid: number) =>
  existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));

describe('the rclone daemon', () => {
  it("copies a file and lists it, whatever rclone's log and remote-control variables say", async () => {
    const dir = makeTmpDir('respaldo-rcd-');
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src', 'a.bin'), 'hello');
    const set = {
      RCLONE_LOG_LEVEL: 'ERROR',
      RCLONE_LOG_FILE: join(dir, 'rclone.log'),
      RCLONE_VERBOSE: '2',
      // and its remote-control settings: a password file it cannot read, another address, TLS
      RCLONE_RC_HTPASSWD: join(dir, 'no-such-htpasswd'),
      RCLONE_RC_ADDR: '127.0.0.1:1',
      RCLONE_RC_CERT: join(dir, 'no-such-cert.pem'),
    };
    const saved = Object.fromEntries(Object.keys(set).map((k) => [k, process.env[k]]));
    Object.assign(process.env, set);
    const daemon = new RcloneDaemon(spec(), 30);
    try {
      await daemon.call('operations/copyfile', {
        srcFs: join(dir, 'src'),
        srcRemote: 'a.bin',
        dstFs: join(dir, 'dst'),
        dstRemote: 'x/a.bin',
      });
      expect(readFileSync(join(dir, 'dst', 'x', 'a.bin'), 'utf8')).toBe('hello');
      const listed = (await daemon.call('operations/list', { fs: join(dir, 'dst'), remote: 'x' })) as {
        list: { Path: string; Size: number }[];
      };
      expect(listed.list.map((e) => [e.Path, e.Size])).toEqual([['x/a.bin', 5]]);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) Reflect.deleteProperty(process.env, k);
        else process.env[k] = v;
      }
      await daemon.close();
    }
  });

  it("passes rclone's refusal on as its message (a missing file: object not found)", async () => {
    const dir = makeTmpDir('respaldo-rcd-');
    const daemon = new RcloneDaemon(spec(), 30);
    try {
      const err = await daemon
        .call('operations/copyfile', { srcFs: dir, srcRemote: 'nope', dstFs: join(dir, 'd'), dstRemote: 'nope' })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CommandError);
      expect((err as CommandError).details?.stderrTail).toMatch(/not found/);
    } finally {
      await daemon.close();
    }
  });

  it('a call the daemon ended during is tried again, whatever it said meanwhile (a listing\'s "directory not found")', async () => {
    const dir = makeTmpDir('respaldo-rcd-');
    const bin = join(dir, 'rclone');
    // An rcd that listens, and on its first call says another call's listing failed, then is killed
    writeFileSync(
      bin,
      `#!${process.execPath}\n` +
        `const s = require('node:http').createServer(() => {\n` +
        `  process.stderr.write('ERROR : srv1/20261206_133405: error listing: directory not found\\n', () =>\n` +
        `    process.kill(process.pid, 'SIGKILL'));\n` +
        `});\n` +
        `s.listen(0, '127.0.0.1', () => process.stderr.write(\n` +
        `  'NOTICE: Serving remote control on http://127.0.0.1:' + s.address().port + '/\\n'));\n`,
    );
    chmodSync(bin, 0o755);
    const daemon = new RcloneDaemon(spec({}, bin), 30);
    try {
      const err = await daemon.call('operations/copyfile', {}).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CommandError);
      expect((err as CommandError).details?.stderrTail).toMatch(/directory not found.*killed by SIGKILL/s);
      const cfg = { name: 'cloud', type: 'rclone' as const, remote: 'r', path: '/x' };
      let said: unknown;
      try {
        rcloneFailure(cfg, 'rclone r:/x', err, 'writing srv1/20261206_133405/a.zst');
      } catch (e) {
        said = e;
      }
      expect(said).toBeInstanceOf(DestinationError);
      expect((said as DestinationError).transient).toBe(true);
      expect((said as DestinationError).message).toMatch(/the remote is unreachable/);
    } finally {
      await daemon.close();
    }
  });

  it('stops once idle and starts again for the next call', async () => {
    const daemon = new RcloneDaemon(spec(), 30, 300);
    try {
      await daemon.call('core/version', {});
      const first = daemon.pid!;
      expect(alive(first)).toBe(true);
      await waitFor(() => !alive(first), 'the idle daemon stopped', 10_000);
      await daemon.call('core/version', {});
      expect(daemon.pid).not.toBe(first);
    } finally {
      await daemon.close();
    }
  });

  it('a daemon that never says where it listens fails after its start time, and is stopped', async () => {
    const dir = makeTmpDir('respaldo-rcd-');
    const bin = join(dir, 'rclone');
    writeFileSync(bin, '#!/bin/sh\necho "$$" > "$0.pid"\nexec sleep 600\n');
    chmodSync(bin, 0o755);
    const daemon = new RcloneDaemon(spec({}, bin), 1);
    const err = await daemon.call('core/version', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect((err as CommandError).message).toMatch(/did not start within 1 s/);
    const pid = Number(readFileSync(`${bin}.pid`, 'utf8'));
    await waitFor(() => !alive(pid), 'the silent daemon stopped', 10_000);
    await daemon.close();
  });

  it('a remote path with "]" (which the daemon cannot serve) is read through rclone cat, whole and from an offset', async () => {
    const dir = makeTmpDir('respaldo-rcd-');
    writeFileSync(join(dir, 'a.bin'), 'hello, world');
    const dest = new RcloneDestination({
      name: 'odd',
      type: 'rclone',
      remote: 'loc',
      path: join(dir, 'odd]root'),
      config: { type: 'local' },
    });
    try {
      await dest.putFile('srv1/20261204_120000/a.bin', join(dir, 'a.bin'), 12, { check: () => undefined });
      expect(readFileSync(join(dir, 'odd]root', 'srv1', '20261204_120000', 'a.bin'), 'utf8')).toBe('hello, world');
      const text = async (offset: number) => {
        let out = '';
        for await (const c of await dest.get('srv1/20261204_120000/a.bin', { offset })) out += String(c);
        return out;
      };
      expect(await text(0)).toBe('hello, world');
      expect(await text(7)).toBe('world');
    } finally {
      await dest.close();
    }
  });

  it.each([
    ['through setpriv', false],
    ['through a watching shell, where setpriv is not installed', true],
  ])('an idle daemon dies with the process that started it, even one killed with SIGKILL (%s)', async (_how, bare) => {
    const dir = makeTmpDir('respaldo-rcd-');
    const module = pathToFileURL(join(REPO_ROOT, 'dist', 'destinations', 'rclone.js')).href;
    // A destination that listed (its daemon started, now idle: nothing in flight, nothing it would log) in a
    // process that then waits; killed, it runs nothing that would stop the daemon.
    const script = `
      import { RcloneDestination } from ${JSON.stringify(module)};
      const d = new RcloneDestination({ name: 'x', type: 'rclone', remote: 'idlekill', path: ${JSON.stringify(dir)},
        config: { type: 'local' } });
      await d.listSets(null);
      process.stdout.write('listed\\n');
      setInterval(() => undefined, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...(bare ? { PATH: pathWithoutSetpriv() } : {}) },
    });
    onTestFinished(() => void child.kill('SIGKILL'));
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += String(c)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`the script ended (${code}): ${stderr}`)));
    });
    const daemons = () => withVariable('rclone', 'RCLONE_CONFIG_IDLEKILL_TYPE=');
    expect(daemons()).toHaveLength(1);
    // the shell watching it, when there is one, is its parent
    const parent = /^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${daemons()[0]}/status`, 'utf8'))![1]!;
    expect(readFileSync(`/proc/${parent}/comm`, 'utf8').trim() === 'sh').toBe(bare);
    child.kill('SIGKILL');
    await waitFor(() => daemons().length === 0, 'the daemon of the killed process gone', 10_000);
    await waitFor(() => withVariable('sh', 'RCLONE_CONFIG_IDLEKILL_TYPE=').length === 0, 'its shell gone', 10_000);
  });

  it('where setpriv is not installed, the idle stop and close() end rclone and its watching shell', async () => {
    const mark = `RESPALDO_RCD_TEST=${process.pid}-${Date.now()}`;
    const saved = process.env['PATH'];
    process.env['PATH'] = pathWithoutSetpriv();
    // Idle for 2 s: long enough for the looks at its processes after each call, on a busy machine.
    const daemon = new RcloneDaemon(spec({ RESPALDO_RCD_TEST: mark.split('=')[1]! }), 30, 2000);
    try {
      await daemon.call('core/version', {});
      expect(withVariable('rclone', mark)).toHaveLength(1);
      expect(withVariable('sh', mark)).toHaveLength(2); // the shell and its watcher
      await waitFor(() => withVariable('rclone', mark).length === 0, 'the idle daemon stopped', 10_000);
      await waitFor(() => withVariable('sh', mark).length === 0, 'its shell and watcher gone', 10_000);
      await daemon.call('core/version', {});
      expect(withVariable('rclone', mark)).toHaveLength(1);
      await daemon.close();
      // close() waited for the shell, which waited for rclone; the watcher ends with them
      expect(withVariable('rclone', mark)).toEqual([]);
      await waitFor(() => withVariable('sh', mark).length === 0, 'the watcher gone', 10_000);
    } finally {
      process.env['PATH'] = saved;
      await daemon.close();
    }
  });

  it('where setpriv is not installed, a close() a moment after the start leaves nothing running', async () => {
    // A stand-in for rclone that never listens: closed 0 to 3 ms after it was started (an operator's Ctrl-C just
    // then), again and again, into the window where its shell has started it but not yet trapped SIGTERM.
    const dir = makeTmpDir('respaldo-rcd-');
    const bin = join(dir, 'rclone');
    writeFileSync(bin, `#!/bin/sh\nexec ${SLEEP} 600\n`);
    chmodSync(bin, 0o755);
    const mark = `${process.pid}-${Date.now()}`;
    const saved = process.env['PATH'];
    process.env['PATH'] = pathWithoutSetpriv();
    try {
      for (let i = 0; i < 60; i++) {
        const daemon = new RcloneDaemon(spec({ RESPALDO_RCD_RACE: mark }, bin), 30);
        const call = daemon.call('core/version', {}).catch(() => undefined);
        const until = performance.now() + (i % 10) * 0.3;
        while (performance.now() < until); // no timer is that fine
        await daemon.close();
        await call;
      }
      await waitFor(
        () => withVariable('sleep', `RESPALDO_RCD_RACE=${mark}`).length === 0,
        'no stand-in left running',
        15_000,
      );
    } finally {
      process.env['PATH'] = saved;
      for (const pid of withVariable('sleep', `RESPALDO_RCD_RACE=${mark}`)) process.kill(Number(pid), 'SIGKILL');
    }
  }, 120_000);
});
