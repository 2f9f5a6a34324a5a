import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTmpDir } from './tmp.js';

/** A throwaway OpenSSH server on a free loopback port with its own host key and one authorized key. */
export interface SshServer {
  port: number;
  user: string;
  /** The folder sftp clients write into (absolute, owned by `user`). */
  root: string;
  /** Private key (no passphrase) authorized for `user`. */
  clientKey: string;
  /** `SHA256:…` of the server's host key, as `ssh-keygen -lf` prints it. */
  hostKey: string;
  /** A known_hosts file naming this server's host key. */
  knownHosts: string;
  /** Stops the server (SIGKILL, with its sessions): a destination that goes away. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
  /**
   * Stops the server and its sessions with SIGSTOP: connections stay open and nothing answers (a frozen
   * server, a dead link with no reset). `thaw()` continues them.
   */
  freeze(): void;
  thaw(): void;
}

/** `pid` and every process below it. */
function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    const r = spawnSync('pgrep', ['-P', String(out[i])], { encoding: 'utf8' });
    out.push(...r.stdout.split('\n').filter(Boolean).map(Number));
  }
  return out;
}

/** Where Debian keeps sshd; null when openssh-server is not installed. */
export function sshdPath(): string | null {
  const r = spawnSync('sh', ['-c', 'command -v sshd || ls /usr/sbin/sshd'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim().split('\n')[0]! : null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('data', () => (s.destroy(), resolve(true))); // the SSH banner
    s.once('error', () => resolve(false));
  });
}

const running = new Set<ChildProcess>();

/**
 * Starts sshd (as the current user, root in CI) with key authentication only; with `passwords`,
 * password authentication too (checked against /etc/shadow: sshd must run as root). `config` lines are
 * added to its sshd_config (`Ciphers aes128-ctr`, `RekeyLimit 1M`, …).
 */
export async function startSshd(opts: { passwords?: boolean; config?: string[] } = {}): Promise<SshServer> {
  const sshd = sshdPath();
  if (!sshd) throw new Error('sshd is not installed (Debian: apt-get install openssh-server); .ci/run installs it');
  const dir = makeTmpDir('respaldo-sshd-');
  const root = join(dir, 'sftp-root');
  mkdirSync(root, { mode: 0o700 });
  const keygen = (file: string) => {
    const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
  };
  const port = await freePort();
  keygen(join(dir, 'host_key'));
  keygen(join(dir, 'client_key'));
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')), { mode: 0o600 });
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(
    knownHosts,
    `[127.0.0.1]:${port} ${readFileSync(join(dir, 'host_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ')}\n`,
  );
  const fp = spawnSync('ssh-keygen', ['-lf', join(dir, 'host_key.pub')], { encoding: 'utf8' }).stdout.split(' ')[1]!;
  const user = spawnSync('id', ['-un'], { encoding: 'utf8' }).stdout.trim();
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `ListenAddress 127.0.0.1`,
      `Port ${port}`,
      `HostKey ${join(dir, 'host_key')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `PasswordAuthentication ${opts.passwords ? 'yes' : 'no'}`,
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      'StrictModes no',
      'UsePAM no',
      'Subsystem sftp internal-sftp',
      // Commands run over ssh (rclone's sftp backend runs md5sum/sha1sum/echo on every connection) go
      // through the user's shell; Debian's bash reads ~/.bashrc when SSH_CLIENT is set at SHLVL 0, and a
      // slow one (root's `pyenv init` here: 3-5 s) then costs every connection that much. SHLVL=1 makes
      // it a nested shell, which reads no rc file: the commands themselves run as before.
      'SetEnv SHLVL=1',
      ...(opts.config ?? []),
      '',
    ].join('\n'),
  );
  let child: ChildProcess;
  const launch = async () => {
    child = spawn(sshd, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
    running.add(child);
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const deadline = Date.now() + 15_000;
    while (!(await accepting(port))) {
      if (child.exitCode !== null) throw new Error(`sshd exited: ${err}`);
      if (Date.now() > deadline) throw new Error(`sshd did not listen on ${port}: ${err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    // sshd's sessions are its children and grandchildren (the monitor, the session process holding the connection,
    // sftp-server): every one is killed. Killing the monitors alone left a session serving a transfer to its end.
    const tree = processTree(child.pid!);
    for (const pid of tree) spawnSync('kill', ['-STOP', String(pid)]);
    for (const pid of tree) spawnSync('kill', ['-KILL', String(pid)]);
    await gone;
    running.delete(child);
  };
  await launch();
  return {
    port,
    user,
    root,
    clientKey: join(dir, 'client_key'),
    hostKey: fp,
    knownHosts,
    stop,
    restart: async () => (await stop(), await launch()),
    freeze: () => void processTree(child.pid!).forEach((p) => process.kill(p, 'SIGSTOP')),
    thaw: () => void processTree(child.pid!).forEach((p) => process.kill(p, 'SIGCONT')),
  };
}

/** The config of an `sftp` destination named `ssh` on `srv` (key authentication, its host key pinned). */
export function sftpDestination(srv: SshServer, extra: Record<string, unknown> = {}) {
  return {
    name: 'ssh',
    type: 'sftp' as const,
    host: '127.0.0.1',
    port: srv.port,
    user: srv.user,
    privateKey: srv.clientKey,
    hostKey: srv.hostKey,
    path: srv.root,
    ...extra,
  };
}

/**
 * The settings of an rclone remote of type sftp on `srv` (passed as RCLONE_CONFIG_* variables), key
 * authentication and its host key pinned; `extra` overrides (another port, known_hosts file).
 */
export function rcloneSftpConfig(srv: SshServer, extra: Record<string, string> = {}): Record<string, string> {
  return {
    type: 'sftp',
    host: '127.0.0.1',
    port: String(srv.port),
    user: srv.user,
    key_file: srv.clientKey,
    known_hosts_file: srv.knownHosts,
    ...extra,
  };
}

/** Stops every sshd this file started (use in afterEach). */
export async function stopAllSshd(): Promise<void> {
  for (const c of running) {
    if (c.exitCode === null && c.signalCode === null) {
      spawnSync('pkill', ['-KILL', '-P', String(c.pid)]);
      c.kill('SIGKILL');
    }
  }
  running.clear();
}

/** A local user made for one test (root only): name, password, an sftp folder it owns; `remove` deletes it. */
export interface ThrowawayUser {
  name: string;
  password: string;
  /** A folder owned by the user (its home), for sftp. */
  home: string;
  remove(): void;
}

/** Why a throwaway user cannot be made here (not root, no useradd), or null when it can. */
export function throwawayUserProblem(): string | null {
  if (process.getuid?.() !== 0) return 'not running as root (CI runs as root)';
  if (spawnSync('sh', ['-c', 'command -v useradd && command -v chpasswd']).status !== 0)
    return 'useradd/chpasswd missing (Debian: passwd)';
  return null;
}

/** Creates a local user with a random password and a home under the temp folder (root only). */
export function makeThrowawayUser(): ThrowawayUser {
  const name = `rsp${randomBytes(4).toString('hex')}`;
  const password = `pw-${randomBytes(12).toString('base64url')}`;
  const home = join(tmpdir(), `respaldo-user-${name}`);
  const run = (cmd: string, args: string[], input?: string) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8', ...(input ? { input } : {}) });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  };
  run('useradd', ['-m', '-d', home, '-s', '/bin/sh', name]);
  run('chpasswd', [], `${name}:${password}\n`);
  return {
    name,
    password,
    home,
    remove: () => void spawnSync('userdel', ['-r', '-f', name], { stdio: 'ignore' }),
  };
}
