/**
 * The rclone destination with an object-store remote: rclone's s3 backend against s3rver. A copy sends each file
 * through one `rclone rcd` (`operations/copyfile`, rclone reading the local file itself, checked against the
 * manifest first; a file the listing found absent sent without rclone looking it up); a read goes through the same
 * daemon; `rclone rcat`, its size told up front, sends the files made on the way (an encrypted copy). rclone
 * 1.60's s3 backend cannot run with AWS_CA_BUNDLE set (see rclone-errors), so this file's process and the CLI it
 * starts run without it. Why one file of about 470 lines: every test here needs
 * the same s3rver remote given by `config` and its helpers (the daemons of a remote, a set on it).
 */
import { randomBytes } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DestinationError } from '../src/core/errors.js';
import type { Manifest } from '../src/core/types.js';
import { RcloneDestination } from '../src/destinations/rclone.js';
import { collect, describeResult, parseJsonOutput, startCli, waitFor } from './helpers/cli.js';
import { SECRET, cli, newServerDay, peakRss } from './helpers/offsite.js';
import { S3RVER_KEY, startS3rver, stopAllS3rvers, type S3Server } from './helpers/s3rver.js';
import { demoSetup, makeTmpDir, type DemoSetup } from './helpers/tmp.js';
import { startHttpProxy } from './helpers/http-proxy.js';
import { ageKeygen } from './helpers/age.js';

const MiB = 1024 * 1024;

/** Processes named rclone whose environment defines the remote `remote` (RCLONE_CONFIG_<REMOTE>_TYPE). */
function rclonesFor(remote: string): string[] {
  const pids = spawnSync('pgrep', ['-x', 'rclone'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  return pids.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/environ`, 'latin1').includes(`RCLONE_CONFIG_${remote.toUpperCase()}_TYPE=`);
    } catch {
      return false; // gone meanwhile
    }
  });
}
/** A process's argv joined by NUL bytes ('' once it is gone). */
function commandLine(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1');
  } catch {
    return '';
  }
}
/** Bytes a process has read so far (files and sockets; 0 once it is gone). */
function bytesRead(pid: string): number {
  try {
    return Number(/^rchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}
const caBundle = process.env.AWS_CA_BUNDLE;
beforeAll(() => void delete process.env.AWS_CA_BUNDLE);
afterAll(() => {
  if (caBundle !== undefined) process.env.AWS_CA_BUNDLE = caBundle;
});
afterEach(stopAllS3rvers);

function s3Config(srv: S3Server, keys: { id: string; secret: string }) {
  return {
    type: 's3',
    provider: 'Other',
    endpoint: srv.endpoint,
    access_key_id: keys.id,
    secret_access_key: keys.secret,
    force_path_style: 'true',
  };
}

/** The `cloud` destination: an rclone remote on `srv` given entirely by `config`. */
function rcloneS3(srv: S3Server, keys: { id: string; secret: string }, extra: Record<string, unknown> = {}) {
  return {
    name: 'cloud',
    type: 'rclone' as const,
    remote: 'offsite',
    path: `${srv.bucket}/p`,
    source: 'srv1',
    config: s3Config(srv, keys),
    ...extra,
  };
}

/**
 * A set of four 24 MiB files on an rclone S3 remote named `remote` of its own (its daemons are found by it), with a
 * timeout far beyond any wait of the test, and the rclone daemons of that remote started from now on.
 */
async function bigSetOn(remote: string) {
  const srv = await startS3rver();
  const s = demoSetup();
  for (let i = 0; i < 4; i++) writeFileSync(join(s.appDir, `big${i}.bin`), randomBytes(24 * MiB));
  withRcloneS3(s, srv, { copyAfterBackup: false, remote, timeoutSeconds: 300 });
  const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
  const before = new Set(rclonesFor(remote)); // of an earlier run of this file, killed with it
  const daemons = () =>
    rclonesFor(remote).filter((pid) => !before.has(pid) && /(^|\/)rclone\0rcd\0/.test(commandLine(pid)));
  return { srv, s, m, daemons };
}

function withRcloneS3(
  s: DemoSetup,
  srv: S3Server,
  extra: Record<string, unknown> = {},
  config: Record<string, unknown> = {},
): void {
  const dest = rcloneS3(srv, { id: '${S3_KEY_ID}', secret: '${S3_SECRET_KEY}' }, extra);
  writeFileSync(
    s.configFile,
    JSON.stringify({ ...JSON.parse(readFileSync(s.configFile, 'utf8')), ...config, destinations: [dest] }),
  );
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('rclone destination (s3 backend against s3rver)', () => {
  it('a file goes whole with its size told, and comes back byte for byte; a body of another length is refused', async () => {
    const srv = await startS3rver();
    const dest = new RcloneDestination(rcloneS3(srv, { id: S3RVER_KEY, secret: S3RVER_KEY }));
    const body = randomBytes(6 << 20);
    await dest.put('srv1/20261202_120000/app/blob.bin', Readable.from([body]), body.length);
    expect(await dest.listFiles('srv1/20261202_120000')).toMatchObject([{ path: 'app/blob.bin', size: body.length }]);
    expect((await readAll(await dest.get('srv1/20261202_120000/app/blob.bin'))).equals(body)).toBe(true);

    // A body shorter than the size the engine listed (the local file cut behind respaldo's back): rclone fails it.
    const err = await dest
      .put('srv1/20261202_120000/app/short.bin', Readable.from([body.subarray(0, 1000)]), 2000)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DestinationError);
    expect((err as Error).message).toContain('writing srv1/20261202_120000/app/short.bin');

    // A remote named with a dash (the config accepts one) is found by rclone from its settings too.
    const dashed = new RcloneDestination(rcloneS3(srv, { id: S3RVER_KEY, secret: S3RVER_KEY }, { remote: 'off-site' }));
    expect(await dashed.listFiles('srv1/20261202_120000')).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: 'app/blob.bin', size: body.length })]),
    );
  });

  it('a local file changed behind respaldo is not left at the remote; the other files are copied', async () => {
    const srv = await startS3rver();
    const s = demoSetup();
    withRcloneS3(s, srv, { copyAfterBackup: false });
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    const file = m.databases.find((d) => d.name === 'users')!.file!;
    const path = join(s.backupDir, m.id, file);
    const bytes = readFileSync(path);
    bytes[bytes.length >> 1]! ^= 0xff;
    writeFileSync(path, bytes);
    const r = await cli(s, ['copy', m.id, '--json'], 12);
    expect(r.stderr).toContain(`does not match its manifest (sha256); it was not copied`);
    const there = new RcloneDestination(rcloneS3(srv, { id: S3RVER_KEY, secret: S3RVER_KEY }));
    const listed = (await there.listFiles(`srv1/${m.id}`)).map((f) => f.path);
    await there.close(); // its rclone daemon
    expect(listed).not.toContain(file);
    expect(listed).not.toContain('manifest.json'); // the set is not listed there
    expect(listed.length).toBeGreaterThan(0); // the other files went
  });

  it('encrypted only off-site: each sealed file is told its ciphertext size; the new-server day decrypts', async () => {
    const srv = await startS3rver();
    const s = demoSetup();
    const keyFile = join(s.dir, 'key.txt');
    const recipient = ageKeygen(keyFile);
    withRcloneS3(
      s,
      srv,
      { encrypt: true },
      { encryption: { recipients: [recipient], identityFile: keyFile, local: false } },
    );
    await newServerDay(s, 'cloud');
    const there = new RcloneDestination(rcloneS3(srv, { id: S3RVER_KEY, secret: S3RVER_KEY }));
    const sets = await there.listSets('srv1');
    expect(sets).toHaveLength(2);
    for (const { id } of sets) {
      const listed = await there.listFiles(`srv1/${id}`);
      expect(listed.filter((f) => f.path !== 'manifest.json').every((f) => f.path.endsWith('.age'))).toBe(true);
      await cli(s, ['verify', id, '--from', 'cloud', '--read-data']);
    }
    await there.close();
  });

  it('Ctrl-C while the store hangs: the copy stops its rclone at once (exit 130), the next completes; so does a fetch', async () => {
    const { srv, s, m, daemons } = await bigSetOn('ctrlc');
    const uploads = () => daemons().filter((pid) => bytesRead(pid) > 30 * MiB); // past one whole file
    const child = startCli(['copy', m.id, '--config', s.configFile], {
      cwd: s.dir,
      env: { S3_KEY_ID: S3RVER_KEY, S3_SECRET_KEY: SECRET },
    });
    const exited = collect(child, 20_000); // killed (code null) if still running then
    await waitFor(() => uploads().length > 0, 'the rclone daemon uploading');
    srv.freeze(); // the store answers nothing: without the stop, each upload waits for rclone's 300 s timeout
    child.kill('SIGINT');
    const r = await exited;
    srv.thaw();
    expect(r.code, describeResult(r)).toBe(130);
    expect(r.stderr).toContain('NOT copied to cloud: The copy was interrupted; what was sent is kept.');
    await waitFor(() => daemons().length === 0, 'no rclone left uploading');
    const there = new RcloneDestination(rcloneS3(srv, { id: S3RVER_KEY, secret: S3RVER_KEY }, { remote: 'ctrlc' }));
    expect(await there.listSets('srv1')).toEqual([]);
    await there.close(); // its rclone daemon, else taken below for one respaldo left behind
    await cli(s, ['copy', m.id]);
    await cli(s, ['verify', m.id, '--from', 'cloud', '--read-data']);

    // The way back: a restore fetching the set (through the daemon's --rc-serve), interrupted while the store hangs,
    // stops its rclone too.
    const fetching = () => daemons().filter((pid) => bytesRead(pid) > 30 * MiB); // past one whole file
    const restore = startCli(
      ['restore', m.id, '--from', 'cloud', '--files', '--to', 'out', '--yes', '--config', s.configFile],
      {
        cwd: s.dir,
        env: { S3_KEY_ID: S3RVER_KEY, S3_SECRET_KEY: SECRET },
      },
    );
    const back = collect(restore, 20_000);
    await waitFor(() => fetching().length > 0, 'the rclone daemon fetching');
    srv.freeze();
    restore.kill('SIGINT');
    const b = await back;
    expect(b.code, describeResult(b)).toBe(130);
    await waitFor(() => daemons().length === 0, 'no rclone left fetching', 10_000);
    srv.thaw();
    expect(readdirSync(s.backupDir).filter((n) => n.startsWith('.respaldo-'))).toEqual([]);
    expect(existsSync(join(s.dir, 'out'))).toBe(false);
  });

  it('a read the store stops answering midway fails (transient, retried from there), never a short file', async () => {
    const srv = await startS3rver();
    const dest = new RcloneDestination(rcloneS3(srv, { id: S3RVER_KEY, secret: S3RVER_KEY }, { timeoutSeconds: 2 }));
    const dir = makeTmpDir('respaldo-rclone-read-');
    const body = randomBytes(64 * MiB); // far more than the sockets between s3rver, rclone and respaldo hold
    writeFileSync(join(dir, 'big.bin'), body);
    try {
      await dest.putFile('srv1/20261204_120000/big.bin', join(dir, 'big.bin'), body.length, { check: () => undefined });
      const stream = await dest.get('srv1/20261204_120000/big.bin');
      let got = 0;
      const read = (async () => {
        for await (const chunk of stream) {
          if (got === 0) srv.freeze(); // once the answer has begun: rclone's own read of the store then stops
          got += (chunk as Buffer).length;
        }
      })();
      const err = await read.then(
        () => null,
        (e: unknown) => e,
      );
      srv.thaw();
      expect(err, `${got} of ${body.length} bytes read`).toBeInstanceOf(DestinationError);
      expect((err as DestinationError).transient).toBe(true);
      expect(got).toBeLessThan(body.length);
      // read again from where it stopped, as a fetch does: the rest, byte for byte
      const rest: Buffer[] = [];
      for await (const chunk of await dest.get('srv1/20261204_120000/big.bin', { offset: got }))
        rest.push(chunk as Buffer);
      expect(Buffer.concat(rest).equals(body.subarray(got))).toBe(true);
    } finally {
      srv.thaw();
      await dest.close();
    }
  });

  it('kill -9 of respaldo mid-copy leaves no rclone daemon behind (it holds the credentials); the next copy completes', async () => {
    const { srv, s, m, daemons } = await bigSetOn('killed');
    const child = startCli(['copy', m.id, '--config', s.configFile], {
      cwd: s.dir,
      env: { S3_KEY_ID: S3RVER_KEY, S3_SECRET_KEY: SECRET },
    });
    const exited = collect(child, 20_000);
    await waitFor(() => daemons().some((pid) => bytesRead(pid) > 30 * MiB), 'the rclone daemon uploading');
    srv.freeze(); // an upload in flight that would hold a daemon up to its 300 s timeout
    child.kill('SIGKILL');
    expect((await exited).signal).toBe('SIGKILL');
    await waitFor(() => daemons().length === 0, 'no rclone daemon left', 10_000);
    srv.thaw();
    await cli(s, ['copy', m.id]);
    await cli(s, ['verify', m.id, '--from', 'cloud', '--read-data']);
  });

  /**
   * The rclone daemon reads each file itself; respaldo only hashes it first, through two reused buffers. Fed to
   * `rclone rcat` from a read stream, every MiB came in a new buffer V8 let pile up before collecting (+38 to +40 MiB).
   */
  it('copy memory: peak RSS grows little over a run sending nothing; every object re-reads whole', async () => {
    const srv = await startS3rver();
    const s = demoSetup();
    const sizes = [12, 12, 12, 12, 12, 12, 10, 5].map((n) => n * MiB).concat(1);
    sizes.forEach((n, i) => writeFileSync(join(s.appDir, `blob${i}.bin`), randomBytes(n)));
    withRcloneS3(s, srv, { copyAfterBackup: false });
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    expect(m.totals.storedBytes).toBeGreaterThan(85 * MiB);
    const sending = await peakRss(s, ['copy', m.id, '--to', 'cloud']);
    const idle = await peakRss(s, ['copy', m.id, '--to', 'cloud']); // everything is there: the same code loaded
    expect(sending - idle, `${sending.toFixed(0)} MiB sending, ${idle.toFixed(0)} MiB idle`).toBeLessThan(20);
    await cli(s, ['verify', m.id, '--from', 'cloud', '--read-data']);
  });
});

describe('an older rclone, whose rcat has no --size', () => {
  it('uploads without it, whole', async () => {
    const dir = makeTmpDir('respaldo-old-rclone-');
    const real = execFileSync('sh', ['-c', 'command -v rclone'], { encoding: 'utf8' }).trim();
    const bin = join(dir, 'rclone');
    // The real rclone, but its rcat refuses --size and does not show it, as older releases do.
    writeFileSync(
      bin,
      `#!/bin/sh
if [ "$1" = rcat ]; then
  for a in "$@"; do
    [ "$a" = --size ] && { echo 'Error: unknown flag: --size' >&2; exit 1; }
    [ "$a" = --help ] && { ${real} "$@" | grep -v -e '--size'; exit 0; }
  done
fi
exec ${real} "$@"
`,
    );
    chmodSync(bin, 0o755);
    const root = join(dir, 'remote');
    mkdirSync(root);
    const dest = new RcloneDestination({
      name: 'old',
      type: 'rclone',
      remote: 'old',
      path: root,
      binPath: bin,
      config: { type: 'local' },
    });
    const body = randomBytes(3 << 20);
    await dest.put('srv1/20261202_120000/a.bin', Readable.from([body]), body.length);
    expect(readFileSync(join(root, 'srv1/20261202_120000/a.bin')).equals(body)).toBe(true);
  });
});

describe('rclone destination: a copy of a set not there yet', () => {
  it('sends each file without looking it up first; one there of another size is looked up and replaced', async () => {
    const srv = await startS3rver();
    const proxy = await startHttpProxy(srv.port);
    try {
      const s = demoSetup();
      const dest = rcloneS3(srv, { id: '${S3_KEY_ID}', secret: '${S3_SECRET_KEY}' }, { copyAfterBackup: false });
      dest.config.endpoint = `http://127.0.0.1:${proxy.port}`;
      writeFileSync(
        s.configFile,
        JSON.stringify({ ...JSON.parse(readFileSync(s.configFile, 'utf8')), destinations: [dest] }),
      );
      const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
      const setFolder = `/${srv.bucket}/p/srv1/${m.id}/`;
      // The set's files written (PUT, POST), and those looked up (HEAD) before their first write (rclone looks each
      // up after writing it too).
      const lookups = (requests: { method: string; path: string }[]) => {
        const written: string[] = [];
        const lookedUpFirst: string[] = [];
        for (const { method, path } of requests) {
          if (!path.startsWith(setFolder)) continue;
          const f = path.slice(setFolder.length);
          if (method === 'PUT' || method === 'POST') {
            if (!written.includes(f)) written.push(f);
          } else if (method === 'HEAD' && !written.includes(f) && !lookedUpFirst.includes(f)) lookedUpFirst.push(f);
        }
        return { written, lookedUpFirst };
      };
      const r = parseJsonOutput<{ ok: boolean; filesSent: number }[]>((await cli(s, ['copy', m.id, '--json'])).stdout);
      expect(r[0]!.filesSent).toBeGreaterThan(3);
      // The listing of the set's folder found none of its files: rclone sent each without a HEAD of its own first (one
      // each before: a round trip per file to a remote that may be far away). A file whose sending failed (s3rver on
      // a loaded machine) is looked up when sent again, since the failed try may have left it there: only a HEAD
      // before the file's first write counts.
      const first = lookups(proxy.requests);
      expect(first.written.length).toBe(r[0]!.filesSent);
      expect(first.lookedUpFirst).toEqual([]);

      // A file there of another size (a copy cut short by hand): sent again, looked up first (a remote that keeps two
      // files of one name would otherwise keep both), and replaced. The listing of the set's folder takes each
      // file's time from the listing itself: rclone looked up every file of the set for it before (their times
      // kept in each object's metadata), a round trip per file.
      const file = m.databases.find((d) => d.name === 'users')!.file!;
      const there = new RcloneDestination(rcloneS3(srv, { id: S3RVER_KEY, secret: S3RVER_KEY }));
      try {
        await there.put(`srv1/${m.id}/${file}`, Readable.from([Buffer.from('short')]), 5);
      } finally {
        await there.close();
      }
      const before = proxy.requests.length;
      await cli(s, ['copy', m.id]);
      const rerun = lookups(proxy.requests.slice(before));
      expect(rerun.written.filter((f) => f !== 'manifest.json')).toEqual([file]);
      expect(rerun.lookedUpFirst.filter((f) => f !== 'manifest.json')).toEqual([file]);
      await cli(s, ['verify', m.id, '--from', 'cloud', '--read-data']);
    } finally {
      await proxy.close();
    }
  });

  it("checks the set's files while rclone starts; one changed after it was checked is checked again, never sent", async () => {
    const srv = await startS3rver();
    const s = demoSetup();
    for (let i = 0; i < 3; i++) writeFileSync(join(s.appDir, `big${i}.bin`), randomBytes(24 * MiB));
    const dir = makeTmpDir('respaldo-slow-rclone-');
    const real = execFileSync('sh', ['-c', 'command -v rclone'], { encoding: 'utf8' }).trim();
    const bin = join(dir, 'rclone');
    const seen = join(dir, 'read-before-rcd');
    // The real rclone; its daemon starts once respaldo (the node process above it) has read 64 MiB, or after 60 s,
    // writing down how much it had read by then; it then changes one file of the set (same size) behind respaldo.
    writeFileSync(
      bin,
      `#!/bin/sh
if [ "$1" = rcd ]; then
  p=$PPID
  while [ "$p" -gt 1 ] && [ "$(readlink /proc/$p/exe)" != ${JSON.stringify(process.execPath)} ]; do
    p=$(cut -d' ' -f4 /proc/$p/stat)
  done
  i=0
  while [ $i -lt 600 ]; do
    r=$(sed -n 's/^rchar: //p' /proc/$p/io)
    [ "$r" -ge 67108864 ] && break
    sleep 0.1; i=$((i + 1))
  done
  echo "$r" > ${JSON.stringify(seen)}
  f=$(cat ${JSON.stringify(join(dir, 'change'))} 2>/dev/null)
  if [ -n "$f" ]; then
    b=$(dd if="$f" bs=1 skip=1000 count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
    printf "\\\\$(printf %o $(( (b + 1) % 256 )))" | dd of="$f" bs=1 seek=1000 conv=notrunc 2>/dev/null
  fi
fi
exec ${real} "$@"
`,
    );
    chmodSync(bin, 0o755);
    withRcloneS3(s, srv, { copyAfterBackup: false, binPath: bin, timeoutSeconds: 300 });
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    // The first of the three in the order they are sent: hashed whole before the daemon started.
    const changed = m.files.find((f) => f.relative.endsWith('big0.bin'))!.stored!;
    writeFileSync(join(dir, 'change'), join(s.backupDir, m.id, changed));
    const r = await cli(s, ['copy', m.id, '--json'], 12);
    // 72 MiB of the set were read (hashed) before the daemon started; before, nothing until it had listed the set.
    expect(Number(readFileSync(seen, 'utf8'))).toBeGreaterThanOrEqual(64 * MiB);
    // big0 was hashed before it changed: checked again when sent, it no longer matches its manifest.
    expect(r.stderr).toContain(`${changed} does not match its manifest (sha256); it was not copied`);
    const there = new RcloneDestination(rcloneS3(srv, { id: S3RVER_KEY, secret: S3RVER_KEY }));
    const listed = (await there.listFiles(`srv1/${m.id}`)).map((f) => f.path);
    await there.close();
    expect(listed).not.toContain(changed);
    expect(listed).not.toContain('manifest.json');
  });
});
