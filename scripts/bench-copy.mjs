#!/usr/bin/env node
/**
 * Off-site copy benchmark: `respaldo copy` of a ~300 MB set to a folder, to S3 (s3rver), to an rclone remote
 * (rclone's s3 backend on the same s3rver) and to SFTP (OpenSSH sshd), each next to a peer on the same server in
 * the same run: `cp -r` + `sync` for the folder (a floor: it proves nothing landed whole) and `rclone copy` +
 * `sync` to a local folder (which checks each file's hash, as respaldo does), `rclone copy` of the same set folder
 * to the same S3 endpoint (for the S3 and the rclone destinations), `scp -r` to the same sshd. Prints seconds,
 * the ratio to the peer and respaldo's peak RSS. It is not a test. Why one file of about 520 lines: the copy and
 * the way back share the set, the servers, the proxy and the timing rows of one run.
 *
 *   node scripts/bench-copy.mjs [--size-mb 300] [--rounds 2] [--only folder,s3,rclone,sftp] [--baseline DIR]
 *                               [--latency-ms N] [--restore] [--keep]
 *
 * --latency-ms N puts a TCP proxy (its own process, loopback) in front of s3rver and sshd that holds every chunk N ms
 * each way: a round trip of 2N ms, as to a server in another city. respaldo and the peers go through it alike.
 * --restore also times the way back: `restore ID --from NAME --files --to DIR` (fetched, then `--stream`) next to
 * `cp -r` + `sync`, `rclone copy` and `scp -r` of the set's application folder to a new local folder.
 *
 * --baseline DIR also times `respaldo copy` from another checkout's build (DIR/dist), in the same rounds,
 * to compare a change with what it replaces under the same load.
 *
 * CPU seconds (user + sys, of the command and its children) are printed too: on a shared machine
 * they move less with the load than wall seconds. So are the CPU seconds the server spent on each run
 * (s3rver, or sshd and the sessions it reaped; from /proc), since how a copy sends can cost the server more.
 *
 * Needs `dist/` (npm run build), /usr/bin/time, sshd + ssh-keygen + scp (openssh-server,
 * openssh-client), rclone, and the s3rver dev dependency. Servers listen on loopback only.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const sizeMb = Number(opt('size-mb', '300'));
const rounds = Number(opt('rounds', '2'));
const keep = args.includes('--keep');
const only = opt('only', 'folder,s3,rclone,sftp').split(',');
const cli = join(root, 'dist', 'cli', 'main.js');
const baseline = opt('baseline', null);
const baseCli = baseline ? join(resolve(baseline), 'dist', 'cli', 'main.js') : null;
const latencyMs = Number(opt('latency-ms', '0'));
const restoreToo = args.includes('--restore');
const S3_KEY = 'S3RVER';

function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.status !== 0)
    throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}): ${(r.stderr ?? '').slice(-2000)}`);
  return r.stdout;
}

/** Runs a command under /usr/bin/time; returns wall seconds, CPU seconds and peak RSS (KiB, largest process). */
function timed(cmd, argv, opts = {}) {
  const r = spawnSync('/usr/bin/time', ['-f', '__TIME__ %e %M %U %S', cmd, ...argv], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    ...opts,
  });
  const m = /__TIME__ ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/.exec(r.stderr ?? '');
  if (r.status !== 0 || !m)
    throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}): ${(r.stderr ?? '').slice(-2000)}`);
  return { seconds: Number(m[1]), rssKb: Number(m[2]), cpu: Number(m[3]) + Number(m[4]), stdout: r.stdout };
}

function freePort() {
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
  });
}

async function waitListening(port, child, what) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ok = await new Promise((res) => {
      const c = createConnection({ host: '127.0.0.1', port });
      c.once('connect', () => (c.destroy(), res(true)));
      c.once('error', () => res(false));
    });
    if (ok) return;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${what} did not start on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const clockTicks = Number(run('getconf', ['CLK_TCK']).trim());
/** CPU seconds a server process has used so far, with its reaped children's (utime, stime, cutime, cstime). */
function serverCpu(child) {
  const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / clockTicks;
}
/** `command()`'s result with the CPU seconds `server` spent meanwhile (null without a server). */
function withServer(server, command) {
  const before = server ? serverCpu(server) : 0;
  const r = command();
  return { ...r, serverCpu: server ? serverCpu(server) - before : null };
}

const work = mkdtempSync(join(tmpdir(), 'respaldo-bench-copy-'));
const children = [];
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  if (!keep) rmSync(work, { recursive: true, force: true });
});

// --- the set: a SQLite database of rows plus incompressible application files (~sizeMb stored) ---
console.log(`Building a ~${sizeMb} MB set in ${work} …`);
const data = join(work, 'data');
mkdirSync(join(data, 'app'), { recursive: true });
const db = new Database(join(data, 'users.db'));
db.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT, note TEXT)');
const ins = db.prepare('INSERT INTO users (name, email, note) VALUES (?, ?, ?)');
db.transaction(() => {
  for (let i = 0; i < 200_000; i++) ins.run(`user ${i}`, `user${i}@example.com`, randomBytes(24).toString('hex'));
})();
db.close();
const files = 12;
for (let i = 0; i < files; i++) {
  writeFileSync(join(data, 'app', `blob${i}.bin`), randomBytes(Math.round((sizeMb * 1048576) / files)));
}

// --- servers: s3rver and sshd on loopback ---
const s3Port = await freePort();
const s3Dir = join(work, 's3');
const s3 = spawn(
  process.execPath,
  [
    '-e',
    `const S3rver = require(${JSON.stringify(join(root, 'node_modules', 's3rver'))});
     new S3rver({ address: '127.0.0.1', port: ${s3Port}, silent: true, directory: ${JSON.stringify(s3Dir)},
       configureBuckets: [{ name: 'bench' }] }).run().catch((e) => { console.error(e); process.exit(1); });`,
  ],
  { stdio: 'ignore' },
);
children.push(s3);
await waitListening(s3Port, s3, 's3rver');

const sshDir = join(work, 'sshd');
mkdirSync(sshDir, { mode: 0o700 });
for (const k of ['host_key', 'client_key']) run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(sshDir, k)]);
writeFileSync(join(sshDir, 'authorized_keys'), readFileSync(join(sshDir, 'client_key.pub')), { mode: 0o600 });
const sshPort = await freePort();
const hostKey = run('ssh-keygen', ['-lf', join(sshDir, 'host_key.pub')]).split(' ')[1];
const knownHosts = join(sshDir, 'known_hosts');
const hostPub = readFileSync(join(sshDir, 'host_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
writeFileSync(knownHosts, `[127.0.0.1]:${sshPort} ${hostPub}\n`);
const user = run('id', ['-un']).trim();
mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
writeFileSync(
  join(sshDir, 'sshd_config'),
  [
    'ListenAddress 127.0.0.1',
    `Port ${sshPort}`,
    `HostKey ${join(sshDir, 'host_key')}`,
    `PidFile ${join(sshDir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(sshDir, 'authorized_keys')}`,
    'PasswordAuthentication no',
    'PermitRootLogin prohibit-password',
    'StrictModes no',
    'UsePAM no',
    'Subsystem sftp internal-sftp',
    '',
  ].join('\n'),
);
const sshdBin = run('sh', ['-c', 'command -v sshd || echo /usr/sbin/sshd']).trim();
const sshd = spawn(sshdBin, ['-D', '-e', '-f', join(sshDir, 'sshd_config')], { stdio: 'ignore' });
children.push(sshd);
await waitListening(sshPort, sshd, 'sshd');

/** A TCP proxy in its own process on a free port in front of `port`, holding each chunk `latencyMs` each way. */
async function delayed(port, what) {
  if (!latencyMs) return port;
  const at = await freePort();
  const proxy = spawn(
    process.execPath,
    [
      '-e',
      `const net = require('node:net');
       net.createServer((c) => {
         const u = net.connect(${port}, '127.0.0.1');
         for (const s of [c, u]) { s.setNoDelay(true); s.on('error', () => s.destroy()); }
         c.on('data', (d) => setTimeout(() => u.write(d), ${latencyMs}));
         u.on('data', (d) => setTimeout(() => c.write(d), ${latencyMs}));
         c.on('close', () => setTimeout(() => u.destroy(), ${latencyMs}));
         u.on('close', () => setTimeout(() => c.destroy(), ${latencyMs}));
       }).listen(${at}, '127.0.0.1');`,
    ],
    { stdio: 'ignore' },
  );
  children.push(proxy);
  await waitListening(at, proxy, `the proxy in front of ${what}`);
  return at;
}
const s3Via = await delayed(s3Port, 's3rver');
const sshVia = await delayed(sshPort, 'sshd');
if (sshVia !== sshPort)
  writeFileSync(knownHosts, `[127.0.0.1]:${sshPort} ${hostPub}\n[127.0.0.1]:${sshVia} ${hostPub}\n`);

// --- the config and the set ---
const targets = { folder: join(work, 'nas'), sftp: join(work, 'sftp-root'), peerFolder: join(work, 'peer-nas') };
for (const d of Object.values(targets)) mkdirSync(d, { recursive: true });
const configFile = join(work, 'backup_config.json');
writeFileSync(
  configFile,
  JSON.stringify({
    backupDir: './backups',
    databases: [{ name: 'users', engine: 'sqlite', path: './data/users.db' }],
    files: { config: [], application: [{ path: './data/app', include: ['**'] }] },
    source: 'bench',
    destinations: [
      { name: 'nas', type: 'folder', path: targets.folder, copyAfterBackup: false },
      {
        name: 's3',
        type: 's3',
        endpoint: `http://127.0.0.1:${s3Via}`,
        bucket: 'bench',
        prefix: 'respaldo',
        accessKeyId: '${S3_KEY}',
        secretAccessKey: '${S3_KEY}',
        forcePathStyle: true,
        copyAfterBackup: false,
      },
      {
        name: 'ssh',
        type: 'sftp',
        host: '127.0.0.1',
        port: sshVia,
        user,
        privateKey: join(sshDir, 'client_key'),
        hostKey,
        path: targets.sftp,
        copyAfterBackup: false,
      },
      {
        // The rclone destination type, its remote on the same s3rver, given entirely by `config` (environment).
        name: 'rc',
        type: 'rclone',
        remote: 'benchrc',
        path: 'bench/rclone',
        config: {
          type: 's3',
          provider: 'Other',
          endpoint: `http://127.0.0.1:${s3Via}`,
          access_key_id: '${S3_KEY}',
          secret_access_key: '${S3_KEY}',
          force_path_style: 'true',
        },
        copyAfterBackup: false,
      },
    ],
  }),
);
// rclone's S3 client cannot take a custom CA bundle with its own transport (AWS_CA_BUNDLE fails every command);
// the endpoint is plain http anyway. respaldo's rclone destination passes its environment on, so it goes for all.
const { AWS_CA_BUNDLE: _ca, ...plainEnv } = process.env;
const env = { ...plainEnv, S3_KEY };
const m = JSON.parse(run(process.execPath, [cli, 'create', '--json', '--config', configFile], { env, cwd: work }));
const setDir = join(work, 'backups', m.id);
const storedMb = (m.totals.storedBytes / 1048576).toFixed(0);
console.log(
  `Set ${m.id}: ${m.totals.files} files, ${storedMb} MB stored; ${cpus().length} CPUs; ${rounds} round(s), best kept; ` +
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
);

const rcloneEnv = {
  ...plainEnv,
  RCLONE_CONFIG_BENCH_TYPE: 's3',
  RCLONE_CONFIG_BENCH_PROVIDER: 'Other',
  RCLONE_CONFIG_BENCH_ENDPOINT: `http://127.0.0.1:${s3Via}`,
  RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: S3_KEY,
  RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: S3_KEY,
  RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE: 'true',
};
const sshOpts = ['-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes'];
const scpOpts = ['-q', '-r', '-P', String(sshVia), '-i', join(sshDir, 'client_key'), ...sshOpts];

/** Each case: how to clear the destination, then the peer and respaldo commands. */
const cases = [
  {
    key: 'folder',
    name: 'folder',
    peerName: 'cp -r + sync',
    server: null,
    clear: () => {
      rmSync(join(targets.folder, 'bench'), { recursive: true, force: true });
      rmSync(join(targets.peerFolder, m.id), { recursive: true, force: true });
    },
    peer: () => timed('sh', ['-c', 'cp -r "$0" "$1" && sync -f "$1"', setDir, targets.peerFolder]),
    ours: (bin = cli) => timed(process.execPath, [bin, 'copy', m.id, '--to', 'nas', '--config', configFile], { env }),
    dest: 'nas',
    peerBack: (out) =>
      timed('sh', ['-c', 'cp -r "$0" "$1" && sync -f "$1"', join(targets.folder, 'bench', m.id, 'application'), out]),
  },
  {
    // The same copy next to a peer that also proves what landed: rclone (the peer of S3) copying to a local folder
    // checks each file's hash after the copy, as respaldo re-reads and hashes it; then the same sync.
    key: 'folder',
    name: 'folder',
    peerName: 'rclone copy + sync',
    checkedPeer: true,
    server: null,
    clear: () => {
      rmSync(join(targets.folder, 'bench'), { recursive: true, force: true });
      rmSync(join(targets.peerFolder, m.id), { recursive: true, force: true });
    },
    peer: () =>
      timed('sh', [
        '-c',
        'rclone copy --config /dev/null "$0" "$1" && sync -f "$1"',
        setDir,
        join(targets.peerFolder, m.id),
      ]),
    ours: (bin = cli) => timed(process.execPath, [bin, 'copy', m.id, '--to', 'nas', '--config', configFile], { env }),
    dest: 'nas',
  },
  {
    key: 's3',
    name: 's3 (s3rver)',
    peerName: 'rclone copy',
    server: s3,
    clear: () => {
      rmSync(join(s3Dir, 'bench', 'respaldo'), { recursive: true, force: true });
      rmSync(join(s3Dir, 'bench', 'peer'), { recursive: true, force: true });
    },
    peer: () => timed('rclone', ['copy', setDir, `bench:bench/peer/${m.id}`], { env: rcloneEnv }),
    ours: (bin = cli) => timed(process.execPath, [bin, 'copy', m.id, '--to', 's3', '--config', configFile], { env }),
    dest: 's3',
    peerBack: (out) =>
      timed('rclone', ['copy', `bench:bench/respaldo/bench/${m.id}/application`, out], { env: rcloneEnv }),
  },
  {
    // The rclone destination type (one `rclone rcat` per file) next to one `rclone copy` of the set folder,
    // both to the same rclone S3 remote on the same s3rver.
    key: 'rclone',
    name: 'rclone (s3rver)',
    peerName: 'rclone copy',
    server: s3,
    clear: () => {
      rmSync(join(s3Dir, 'bench', 'rclone'), { recursive: true, force: true });
      rmSync(join(s3Dir, 'bench', 'peer'), { recursive: true, force: true });
    },
    peer: () => timed('rclone', ['copy', setDir, `bench:bench/peer/${m.id}`], { env: rcloneEnv }),
    ours: (bin = cli) => timed(process.execPath, [bin, 'copy', m.id, '--to', 'rc', '--config', configFile], { env }),
    dest: 'rc',
    peerBack: (out) =>
      timed('rclone', ['copy', `bench:bench/rclone/bench/${m.id}/application`, out], { env: rcloneEnv }),
  },
  {
    key: 'sftp',
    name: 'sftp (sshd)',
    peerName: 'scp -r',
    server: sshd,
    clear: () => {
      rmSync(join(targets.sftp, 'bench'), { recursive: true, force: true });
      rmSync(join(targets.sftp, 'peer'), { recursive: true, force: true });
    },
    peer: () => timed('scp', [...scpOpts, setDir, `${user}@127.0.0.1:${join(targets.sftp, 'peer')}`]),
    ours: (bin = cli) => timed(process.execPath, [bin, 'copy', m.id, '--to', 'ssh', '--config', configFile], { env }),
    dest: 'ssh',
    peerBack: (out) =>
      timed('scp', [...scpOpts, `${user}@127.0.0.1:${join(targets.sftp, 'bench', m.id, 'application')}`, out]),
  },
];

const rows = [];
const serverCpuText = (r) =>
  r.peerServerCpu === null ? '' : `${r.peerServerCpu.toFixed(2)} / ${r.oursServerCpu.toFixed(2)}`;
for (const c of cases.filter((x) => only.includes(x.key))) {
  const none = c.server ? Infinity : null;
  let best = { peer: Infinity, ours: Infinity, peerCpu: Infinity, oursCpu: Infinity, rss: 0 };
  best = { ...best, peerServerCpu: none, oursServerCpu: none };
  let base = { ours: Infinity, oursCpu: Infinity, oursServerCpu: none, rss: 0 };
  const keepBest = (b, o) => ({
    ...b,
    ours: Math.min(b.ours, o.seconds),
    oursCpu: Math.min(b.oursCpu, o.cpu),
    oursServerCpu: o.serverCpu === null ? null : Math.min(b.oursServerCpu, o.serverCpu),
    rss: Math.max(b.rss, o.rssKb),
  });
  // Each copy is of a set not copied there yet, as the first copy of a new set is: its mark beside the set (which a
  // copy reads to tell a first copy from a rerun) goes with what the destination held.
  const fresh = () => rmSync(join(setDir, 'copies.json'), { force: true });
  for (let i = 0; i < rounds; i++) {
    c.clear();
    fresh();
    const p = withServer(c.server, c.peer);
    best = {
      ...keepBest(
        best,
        withServer(c.server, () => c.ours()),
      ),
      peer: Math.min(best.peer, p.seconds),
      peerCpu: Math.min(best.peerCpu, p.cpu),
      peerServerCpu: p.serverCpu === null ? null : Math.min(best.peerServerCpu, p.serverCpu),
    };
    if (baseCli) {
      c.clear();
      fresh();
      base = keepBest(
        base,
        withServer(c.server, () => c.ours(baseCli)),
      );
    }
  }
  c.clear();
  rows.push({ name: c.name, peerName: c.peerName, ...best });
  if (baseCli) rows.push({ ...best, ...base, name: '  baseline', peerName: '' });
}

// --- the way back: the set's files restored from each destination, next to a download of the same folder ---
if (restoreToo) {
  const out = join(work, 'restored');
  const back = (command) => {
    rmSync(out, { recursive: true, force: true });
    const r = command();
    rmSync(out, { recursive: true, force: true });
    return r;
  };
  const restore =
    (c, stream, bin = cli) =>
    () =>
      timed(
        process.execPath,
        [bin, 'restore', m.id, '--from', c.dest, '--files', '--to', out, '--yes', '--config', configFile].concat(
          stream ? ['--stream'] : [],
        ),
        { env },
      );
  for (const c of cases.filter((x) => only.includes(x.key) && !x.checkedPeer)) {
    c.clear();
    c.ours();
    const none = c.server ? Infinity : null;
    const best = () => ({ seconds: Infinity, cpu: Infinity, serverCpu: none, rssKb: 0 });
    const pick = (b, o) => ({
      seconds: Math.min(b.seconds, o.seconds),
      cpu: Math.min(b.cpu, o.cpu),
      serverCpu: o.serverCpu === null ? null : Math.min(b.serverCpu, o.serverCpu),
      rssKb: Math.max(b.rssKb, o.rssKb),
    });
    const timedBack = (command) => back(() => withServer(c.server, command));
    let peer = best();
    let fetched = best();
    let streamed = best();
    let based = best();
    let basedStreamed = best();
    for (let i = 0; i < rounds; i++) {
      peer = pick(
        peer,
        timedBack(() => c.peerBack(out)),
      );
      fetched = pick(fetched, timedBack(restore(c, false)));
      streamed = pick(streamed, timedBack(restore(c, true)));
      if (baseCli) {
        based = pick(based, timedBack(restore(c, false, baseCli)));
        basedStreamed = pick(basedStreamed, timedBack(restore(c, true, baseCli)));
      }
    }
    c.clear();
    const named = [
      [`${c.key} back`, fetched],
      ['  --stream', streamed],
    ];
    if (baseCli) named.push(['  baseline', based], ['  baseline --stream', basedStreamed]);
    for (const [name, ours] of named)
      rows.push({
        name,
        peerName: name.startsWith(' ') ? '' : `${c.peerName.replace(' + sync', '')} (down)`,
        peer: peer.seconds,
        ours: ours.seconds,
        peerCpu: peer.cpu,
        oursCpu: ours.cpu,
        peerServerCpu: peer.serverCpu,
        oursServerCpu: ours.serverCpu,
        rss: ours.rssKb,
      });
  }
}

console.log(
  latencyMs ? `through a proxy holding each chunk ${latencyMs} ms each way (round trip ${2 * latencyMs} ms)` : '',
);
console.log(
  'destination'.padEnd(20),
  'peer'.padEnd(18),
  'peer s'.padStart(8),
  'respaldo s'.padStart(11),
  '×peer'.padStart(7),
  'peak RSS MiB'.padStart(13),
  'CPU s peer/respaldo'.padStart(20),
  'server CPU s peer/respaldo'.padStart(27),
);
for (const r of rows) {
  console.log(
    r.name.padEnd(20),
    r.peerName.padEnd(18),
    r.peer.toFixed(2).padStart(8),
    r.ours.toFixed(2).padStart(11),
    (r.ours / r.peer).toFixed(2).padStart(7),
    (r.rss / 1024).toFixed(0).padStart(13),
    `${r.peerCpu.toFixed(2)} / ${r.oursCpu.toFixed(2)}`.padStart(20),
    serverCpuText(r).padStart(27),
  );
}
if (baseCli) console.log(`baseline: ${baseCli}`);
console.log(
  `load average at the end: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
process.exit(0);
