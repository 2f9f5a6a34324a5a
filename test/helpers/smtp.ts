import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort } from './pg-cluster.js';

/** Debian's python3 (the aiosmtpd package is installed for it, not for another python on PATH). */
const PYTHON = '/usr/bin/python3';

/** A real SMTP server on 127.0.0.1 (aiosmtpd, Debian's python3-aiosmtpd) storing what it receives in a maildir. */
export interface SmtpServer {
  port: number;
  /** The messages received so far, oldest first: headers, then the body decoded (quoted-printable, UTF-8). */
  messages(): string[];
  stop(): Promise<void>;
}

export function smtpAvailable(): boolean {
  return existsSync(PYTHON) && spawnOk(PYTHON, ['-c', 'import aiosmtpd']);
}

function spawnOk(cmd: string, args: string[]): boolean {
  return spawnSync(cmd, args).status === 0;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/**
 * aiosmtpd offering AUTH on a connection without TLS (as a careless server, or one whose STARTTLS a man in the middle
 * stripped, would): every login that reaches it is appended to `logins` as `user password`.
 */
const PLAIN_AUTH_SERVER = `
import asyncio, sys
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult
port, maildir, logins = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def auth(server, session, envelope, mechanism, data):
    with open(logins, 'a') as f:
        f.write(data.login.decode() + ' ' + data.password.decode() + '\\n')
    return AuthResult(success=True)
c = Controller(Mailbox(maildir), hostname='127.0.0.1', port=port, authenticator=auth, auth_require_tls=False)
c.start()
asyncio.get_event_loop().run_forever()
`;

/**
 * Starts the server on a free port and resolves once it accepts connections. `plainAuth`: it offers AUTH without
 * TLS and records the logins it got (`logins()`).
 */
export async function startSmtp(opts: { plainAuth?: boolean } = {}): Promise<SmtpServer & { logins(): string }> {
  const port = await freePort();
  // Not a makeTmpDir folder: those are removed after each test, and the server outlives one test.
  const root = mkdtempSync(join(tmpdir(), 'respaldo-smtp-'));
  const maildir = join(root, 'mail');
  const logins = join(root, 'logins');
  const args = opts.plainAuth
    ? ['-c', PLAIN_AUTH_SERVER, String(port), maildir, logins]
    : ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`, '-c', 'aiosmtpd.handlers.Mailbox', maildir];
  const child: ChildProcess = spawn(PYTHON, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const deadline = Date.now() + 20_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`aiosmtpd did not start on port ${port}: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    logins: () => (existsSync(logins) ? readFileSync(logins, 'utf8') : ''),
    messages: () => {
      const newDir = join(maildir, 'new');
      if (!existsSync(newDir)) return [];
      // In arrival order. Python's Maildir names a file `<s>.M<µs>P<pid>Q<n>.<host>` with the microseconds not
      // padded, so names sorted as text put a later mail of the same second first (a test then read the previous
      // test's mail as its own); the server's delivery counter Q orders them.
      const arrival = (n: string) => {
        const q = /Q(\d+)\./.exec(n)?.[1];
        if (q === undefined) throw new Error(`a mail file not named as Python's Maildir names them: ${n}`);
        return Number(q);
      };
      return readdirSync(newDir)
        .sort((a, b) => arrival(a) - arrival(b))
        .map((n) => decodeMail(readFileSync(join(newDir, n), 'utf8')));
    },
    stop: () =>
      new Promise((resolve) => {
        const done = () => (rmSync(root, { recursive: true, force: true }), resolve());
        if (child.exitCode !== null) return done();
        child.once('exit', done);
        child.kill('SIGTERM');
      }),
  };
}

/** Decodes a quoted-printable body (nodemailer's encoding for non-ASCII text); headers stay as they are. */
function decodeMail(raw: string): string {
  const split = raw.search(/\r?\n\r?\n/);
  if (split < 0 || !/^Content-Transfer-Encoding: quoted-printable/im.test(raw.slice(0, split))) return raw;
  const body = raw.slice(split).replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const hex = body[i] === '=' ? /^[0-9A-F]{2}$/i.exec(body.slice(i + 1, i + 3)) : null;
    if (hex) {
      bytes.push(parseInt(hex[0], 16));
      i += 2;
    } else bytes.push(...Buffer.from(body[i]!, 'utf8'));
  }
  return raw.slice(0, split) + Buffer.from(bytes).toString('utf8');
}
