import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { Agent, request, type IncomingMessage } from 'node:http';
import { CommandError } from '../core/errors.js';
import { maskSecrets, spawnStreaming, type SpawnSpec, type StreamingChild } from '../exec/spawn.js';

/**
 * Without setpriv: a shell runs the command and, beside it, waits for its own stdin (a pipe from respaldo) to end,
 * which happens when respaldo ends however it ends; it then kills the command. The shell also passes SIGTERM on (how
 * close() and the idle timer stop the daemon) and, once the command ended, stops waiting and exits with its status.
 * The trap is set before the command starts: a SIGTERM a moment after the start (an operator's Ctrl-C) stops the
 * command, never the shell alone (which left the command running for good). A SIGTERM the command gets before it
 * runs rclone (it would take it as the shell's) is lost: the shell then waits on until close() kills it, and its
 * pipe's end makes the watcher kill the command. The watcher drops the trap. Only shell builtins.
 */
const WATCHED = [
  'exec 3<&0 0</dev/null',
  'p= stop=',
  'trap \'stop=1; [ -n "$p" ] && kill -TERM "$p" 2>/dev/null\' TERM INT HUP',
  '"$@" 3<&- & p=$!',
  '{ trap - TERM INT HUP; while read -r x; do :; done; kill -KILL "$p" 2>/dev/null; } <&3 & w=$!',
  'exec 3<&-',
  '[ -n "$stop" ] && kill -TERM "$p" 2>/dev/null',
  'while :; do wait "$p"; s=$?; kill -0 "$p" 2>/dev/null || break; done',
  'kill "$w" 2>/dev/null',
  'exit "$s"',
].join('\n');

/**
 * `spec` run so that the daemon ends when respaldo ends however it ends (kill -9, the OOM killer), where it would
 * otherwise outlive it, listening and holding the remote's credentials, for good (rclone reads no stdin that would
 * tell it): through util-linux's `setpriv --pdeathsig KILL` (the kernel kills it) when both it and the command are
 * found, else through a watching shell (WATCHED) whose stdin is a pipe from respaldo (`stdin: 'pipe'`).
 */
function diesWithUs(spec: SpawnSpec): Pick<SpawnSpec, 'command' | 'args'> & { stdin?: 'pipe' } {
  const setpriv = onPath('setpriv');
  const command = spec.command.includes('/') ? (existsSync(spec.command) ? spec.command : null) : onPath(spec.command);
  if (!command) return { command: spec.command, args: spec.args };
  if (setpriv) return { command: setpriv, args: ['--pdeathsig', 'KILL', '--', command, ...spec.args] };
  return { command: '/bin/sh', args: ['-c', WATCHED, 'respaldo-rclone', command, ...spec.args], stdin: 'pipe' };
}

/** The path of `name` on PATH, or null. */
function onPath(name: string): string | null {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return null;
}

/** A daemon with no call for this long is stopped. */
const IDLE_MS = 60_000;

/** How long a daemon asked to stop may take before it is killed. */
const STOP_GRACE_MS = 2_000;

/** How many of the daemon's last lines are kept (see RcloneDaemon.said). */
const SAID_KEPT = 20;

/** rclone's variables for its log (where, how much, in which form): none reach the daemon. */
const LOG_VARIABLES = ['RCLONE_LOG_FILE', 'RCLONE_LOG_LEVEL', 'RCLONE_VERBOSE', 'RCLONE_QUIET', 'RCLONE_SYSLOG'];

/**
 * One `rclone rcd` for a destination's uploads, listings, removals and reads, driven over its HTTP API on loopback.
 *
 * A copy used to start an rclone per file (`rcat`): each costs about 0.14 CPU-s to start (measured with `--help`
 * alone) and opens its own connection to the remote (an SSH or TLS handshake; a token refresh for Drive), so a
 * set of 14 files cost half again what `rclone copy` of the same folder does. One daemon keeps one connection
 * pool, and `operations/copyfile` has rclone read the local file itself and check what it sent (size and
 * hash), as `rclone copy` does.
 *
 * The daemon listens on 127.0.0.1 at a port the kernel picks, which it prints; its API needs a user and password
 * made for this run, given in its environment (RCLONE_RC_USER/RCLONE_RC_PASS), never argv. The remote's config
 * reaches it as it reaches every other rclone (`spec`). It stops with the destination's own signal (close()).
 */
export class RcloneDaemon {
  private started: Promise<string> | undefined;
  private child: StreamingChild | undefined;
  private closed = false;
  /** Calls in flight, and the timer that stops the daemon once there have been none for IDLE_MS. */
  private calls = 0;
  private idle: NodeJS.Timeout | undefined;
  private readonly user = 'respaldo';
  private readonly pass = randomBytes(24).toString('hex');
  private readonly agent = new Agent({ keepAlive: true });
  /** Values masked in what rclone answers: the remote's secrets (known once started) and the run's password. */
  private masked: string[] = [];
  /** The daemon's last lines on stderr, and how many it has said in all: what it said during one call. */
  private said: string[] = [];
  private lines = 0;

  /** The daemon's process id while it runs (tests). */
  get pid(): number | null {
    const c = this.child?.child;
    return c && c.exitCode === null && c.signalCode === null ? (c.pid ?? null) : null;
  }

  /**
   * `spec(args)`: how this destination runs rclone (binary, environment, secrets, its closing signal);
   * `startSeconds`: how long it may take to say where it listens; `idleMs`: see IDLE_MS (tests).
   */
  constructor(
    private readonly spec: (args: string[]) => SpawnSpec,
    private readonly startSeconds: number,
    private readonly idleMs = IDLE_MS,
  ) {}

  /** Starts the daemon (see url()) ahead of its first call. */
  async ready(): Promise<void> {
    await this.url();
  }

  /** Starts the daemon once (again if it stopped), resolving to its base URL when it listens. */
  private url(): Promise<string> {
    if (this.closed) return Promise.reject(this.failure('rcd', 'interrupted: the destination was closed'));
    if (this.started && this.child?.child.exitCode === null && this.child.child.signalCode === null)
      return this.started;
    this.started = new Promise<string>((resolve, reject) => {
      const base = this.spec([
        'rcd',
        '--rc-addr',
        '127.0.0.1:0',
        // The engine sends a file only when it is missing there or differs: always send it, never "already there"
        // by size and time (a file changed behind respaldo's back keeps both).
        '--ignore-times',
        // Names as they are on disk: rclone's default escapes for the local file system would look for a file named
        // with a full-width solidus or a quote mark under another name.
        '--local-encoding',
        'None',
        // Files of any remote readable at /[remote:path]/key (with Range), behind the same user and password.
        '--rc-serve',
      ]);
      const child = spawnStreaming({
        ...base,
        ...diesWithUs(base),
        env: {
          ...base.env,
          // The operator's own settings for rclone's remote control (an htpasswd file, TLS, no auth) would change
          // how this daemon is reached: none are passed on but the run's user and password.
          ...Object.fromEntries(
            Object.keys(process.env)
              .filter((name) => name.startsWith('RCLONE_RC_'))
              .map((name) => [name, undefined]),
          ),
          RCLONE_RC_USER: this.user,
          RCLONE_RC_PASS: this.pass,
          // Where it listens is read from its log on stderr: an operator's own log settings for rclone (a file,
          // errors only) would hide it. A log level given as a variable would also clash with -v given as one.
          ...Object.fromEntries(LOG_VARIABLES.map((name) => [name, undefined])),
        },
        secrets: (this.masked = [...(base.secrets ?? []), this.pass]),
        progressLine: (line) => {
          this.said = [...this.said.slice(-(SAID_KEPT - 1)), line];
          this.lines++;
          const at = /Serving remote control on (http:\/\/127\.0\.0\.1:\d+)\/?/.exec(line);
          if (at) {
            clearTimeout(timer);
            resolve(at[1]!);
          }
          return at !== null;
        },
      });
      this.child = child;
      // Through the watching shell: its pipe is closed once it ended, which ends its watcher (see WATCHED).
      child.child.once('exit', () => child.child.stdin?.destroy());
      const timer = setTimeout(() => {
        child.child.kill('SIGTERM');
        reject(
          new CommandError(`rclone rcd did not start within ${this.startSeconds} s`, undefined, {
            command: 'rclone rcd',
            exitCode: null,
            signal: null,
            stderrTail: `rclone rcd did not say where it listens within ${this.startSeconds} s`,
          }),
        );
      }, this.startSeconds * 1000);
      // Stopped or failed before it listened: its own reason (its stderr, or that it was interrupted).
      child.done.finally(() => clearTimeout(timer)).catch(() => undefined);
      child.done.then(
        (out) =>
          reject(
            new CommandError('rclone rcd ended before it listened', undefined, {
              command: 'rclone rcd',
              exitCode: out.exitCode,
              signal: out.signal,
              stderrTail: out.stderrTail || 'rclone rcd ended before it listened',
            }),
          ),
        (err: unknown) => reject(err as Error),
      );
    });
    this.started.catch(() => undefined); // said by the call that waits for it
    return this.started;
  }

  /**
   * POSTs `params` to the daemon's `path` (`operations/copyfile`) and returns its answer. A failure rclone reports
   * (`{"error": …}`) is thrown as a CommandError whose stderr tail is rclone's message, so the destination says it
   * the way it says a failed rclone command. `signal` stops waiting (the daemon is stopped by close()).
   */
  async call(path: string, params: Record<string, unknown>, signal?: AbortSignal): Promise<unknown> {
    this.calls++;
    clearTimeout(this.idle);
    try {
      return await this.answer(path, params, signal);
    } finally {
      // Idle for a while: stopped (the next call starts it again), so that a caller that never closes the
      // destination (a long-running scheduler or menu) keeps no daemon holding the credentials.
      if (--this.calls === 0) this.idle = setTimeout(() => this.stop(), this.idleMs).unref();
    }
  }

  /**
   * Reads `key` of the file system `fs` (`remote:path`) from byte `offset`: the daemon's `--rc-serve`. Resolves to the
   * body once rclone answered 200/206, with its length; a body cut short fails as rclone's connection lost. A 404 is
   * a CommandError saying `object not found`, any other answer one with rclone's text. Null when `fs` cannot be
   * named in such a path (a `]` in it): the caller reads another way.
   */
  async read(
    fs: string,
    key: string,
    offset = 0,
  ): Promise<{ body: IncomingMessage; length: number | null; stopped: () => void } | null> {
    if (fs.includes(']')) return null;
    this.calls++;
    clearTimeout(this.idle);
    let done = false;
    const stopped = () => {
      if (done) return;
      done = true;
      if (--this.calls === 0) this.idle = setTimeout(() => this.stop(), this.idleMs).unref();
    };
    try {
      const base = await this.url();
      const path = `/[${encodeURIComponent(fs)}]/${key.split('/').map(encodeURIComponent).join('/')}`;
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = request(`${base}${path}`, {
          method: 'GET',
          agent: this.agent,
          auth: `${this.user}:${this.pass}`,
          headers: offset ? { Range: `bytes=${offset}-` } : {},
        });
        req.on('response', resolve);
        req.on('error', reject);
        req.end();
      }).catch((err: unknown) => {
        throw this.failure('serve', `${(err as Error).message} (connection lost)`);
      });
      const status = res.statusCode ?? 0;
      if (status === 200 || status === 206) {
        const length = Number(res.headers['content-length']);
        res.once('close', stopped);
        return { body: res, length: Number.isFinite(length) ? length : null, stopped };
      }
      let text = '';
      res.setEncoding('utf8');
      for await (const c of res) text += c as string;
      throw this.failure('serve', status === 404 ? 'object not found' : `HTTP ${status}: ${text.trim().slice(0, 300)}`);
    } catch (err) {
      stopped();
      throw err;
    }
  }

  private stop(): void {
    this.child?.child.kill('SIGTERM');
    this.started = undefined;
  }

  private async answer(path: string, params: Record<string, unknown>, signal?: AbortSignal): Promise<unknown> {
    const mark = this.lines;
    const base = await this.url();
    const body = JSON.stringify(params);
    const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        `${base}/${path}`,
        {
          method: 'POST',
          agent: this.agent,
          auth: `${this.user}:${this.pass}`,
          headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
          ...(signal ? { signal } : {}),
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    }).catch(async (err: unknown) => {
      if (signal?.aborted) throw err;
      // The daemon went away (killed, crashed): how it ended and what it said during this call are why. Its exit may
      // be seen just after the connection broke; a daemon still running (a connection reset alone) says nothing.
      // What it logged before this call (a listing of a set folder not there yet: "directory not found") is not why:
      // read as the answer, that made a daemon killed mid-upload a file "not found", failed at once, not retried.
      const child = this.child;
      let timer: NodeJS.Timeout | undefined;
      const ended = child
        ? await Promise.race([
            child.done.then(
              (out) => `rclone rcd exited with code ${out.exitCode}`,
              (e: unknown) => {
                const d = (e as CommandError).details;
                if (d?.signal) return `rclone rcd was killed by ${String(d.signal)}`;
                return d ? `rclone rcd exited with code ${String(d.exitCode)}` : '';
              },
            ),
            new Promise<string>((resolve) => (timer = setTimeout(() => resolve(''), 2000))),
          ]).finally(() => clearTimeout(timer))
        : '';
      // A daemon still running said nothing about this connection: its lines are about other calls.
      const during = ended ? this.said.slice(this.said.length - Math.min(this.lines - mark, this.said.length)) : [];
      const tail = [...during, ended && `${ended}:`, `${(err as Error).message} (connection lost)`].filter(Boolean);
      // A call the daemon's end cut short was not answered, whatever it said: tried again (rclone-errors.ts), the
      // next daemon answers it. Read for its words, a listing's "directory not found" (a new set folder) that another
      // call made it say made an upload cut short "not found", failed at once.
      throw this.failure(path, tail.join(' '), ended !== '');
    });
    let parsed: unknown;
    try {
      parsed = JSON.parse(answer.text);
    } catch {
      throw this.failure(path, `an answer that is not JSON (HTTP ${answer.status})`);
    }
    if (answer.status !== 200) {
      const said = (parsed as { error?: unknown } | null)?.error;
      throw this.failure(path, typeof said === 'string' ? said : `HTTP ${answer.status}`);
    }
    return parsed;
  }

  /** `cutShort`: the daemon ended during the call, which it did not answer. */
  private failure(path: string, said: string, cutShort = false): CommandError {
    const tail = maskSecrets(said, [...this.masked, this.pass]);
    const info = { command: `rclone rc ${path}`, exitCode: null, signal: null, stderrTail: tail };
    return new CommandError(`rclone ${path} failed: ${tail}`, undefined, cutShort ? { ...info, cutShort } : info);
  }

  /**
   * Closes the kept connections, starts no daemon again, and stops the daemon: resolved once it exited (so that
   * its CPU time is counted as respaldo's, and nothing of this destination runs after it closed). One that does
   * not end within STOP_GRACE_MS (a shutdown waiting on a request to a store that answers nothing) is killed.
   */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.idle);
    this.agent.destroy();
    const child = this.child?.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await gone;
    clearTimeout(timer);
  }
}
