#!/usr/bin/env node
/**
 * Application files benchmark: `respaldo create` of a folder of many small files (an uploads folder) next to
 * `tar -cf - | zstd -3 -T2` + `sha256sum` of the same folder in the same run, then `restore --files --to` next to
 * `zstd -d | tar -x`. Prints seconds, the ratio to the peer, peak RSS and CPU seconds. It is not a test: respaldo
 * stores every file on its own (fsynced, hashed, listed in the manifest with its owner and mode), the peer one archive.
 *
 *   node scripts/bench-files.mjs [--files 5000] [--bytes 2000] [--rounds 3] [--dist DIR] [--keep]
 *
 * --dist DIR times the build in DIR (another checkout's `dist/`) instead of this one's.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const count = Number(opt('files', '5000'));
const bytes = Number(opt('bytes', '2000'));
const rounds = Number(opt('rounds', '3'));
const cli = join(resolve(opt('dist', join(root, 'dist'))), 'cli', 'main.js');
const work = mkdtempSync(join(tmpdir(), 'respaldo-bench-files-'));

/** Runs a shell command under /usr/bin/time: wall seconds, peak RSS (KiB), CPU seconds. */
function timed(script) {
  const r = spawnSync('/usr/bin/time', ['-f', '__TIME__ %e %M %U %S', 'sh', '-c', script], {
    encoding: 'utf8',
    cwd: work,
  });
  const m = /__TIME__ ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/.exec(r.stderr ?? '');
  if (r.status !== 0 || !m) throw new Error(`${script} failed (${r.status}): ${(r.stderr ?? '').slice(-2000)}`);
  return { seconds: Number(m[1]), rssMiB: Number(m[2]) / 1024, cpu: Number(m[3]) + Number(m[4]) };
}

// Half text (compressible), half random, in folders of 500.
const app = join(work, 'data', 'uploads');
for (let i = 0; i < count; i++) {
  const dir = join(app, `d${Math.floor(i / 500)}`);
  if (i % 500 === 0) mkdirSync(dir, { recursive: true });
  const body = i % 2 ? randomBytes(bytes) : Buffer.from(`line ${i} `.repeat(Math.ceil(bytes / 10)).slice(0, bytes));
  writeFileSync(join(dir, `f${i}.bin`), body);
}
new Database(join(work, 'data', 'users.db')).exec('CREATE TABLE t(x); INSERT INTO t VALUES (1)');
const config = join(work, 'backup_config.json');
writeFileSync(
  config,
  JSON.stringify({
    backupDir: './backups',
    databases: [{ name: 'users', engine: 'sqlite', path: './data/users.db' }],
    files: { config: [], application: [{ path: './data/uploads' }] },
  }),
);

const best = (runs) => runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
const rows = { create: { peer: [], ours: [] }, restore: { peer: [], ours: [] } };
for (let r = 0; r < rounds; r++) {
  rmSync(join(work, 'backups'), { recursive: true, force: true });
  rmSync(join(work, 'peer'), { recursive: true, force: true });
  rmSync(join(work, 'restored'), { recursive: true, force: true });
  mkdirSync(join(work, 'peer'));
  spawnSync('sync');
  rows.create.peer.push(
    timed(
      'tar -C data -cf - uploads | zstd -3 -T2 -q -o peer/uploads.tar.zst && sha256sum peer/uploads.tar.zst >/dev/null && sync -f peer',
    ),
  );
  rows.create.ours.push(timed(`"${process.execPath}" "${cli}" create --config backup_config.json >/dev/null`));
  const id = readdirSync(join(work, 'backups')).find((n) => /^\d{8}_\d{6}$/.test(n));
  spawnSync('sync');
  rows.restore.peer.push(
    timed('mkdir -p peer/out && zstd -dcq peer/uploads.tar.zst | tar -C peer/out -xf - && sync -f peer'),
  );
  rows.restore.ours.push(
    timed(
      `"${process.execPath}" "${cli}" restore ${id} --files --to restored --yes --config backup_config.json >/dev/null`,
    ),
  );
}

console.log(`${count} files of ${bytes} bytes; ${cpus().length} CPUs; best of ${rounds} round(s)\n`);
console.log(
  'step      peer                                    peer s  respaldo s  ×peer  peak RSS MiB  CPU s peer/respaldo',
);
for (const [step, peerName] of [
  ['create', 'tar | zstd -3 -T2 + sha256sum + sync'],
  ['restore', 'zstd -d | tar -x + sync'],
]) {
  const p = best(rows[step].peer);
  const o = best(rows[step].ours);
  console.log(
    `${step.padEnd(10)}${peerName.padEnd(40)}${p.seconds.toFixed(2).padStart(6)}  ${o.seconds.toFixed(2).padStart(10)}` +
      `  ${(o.seconds / p.seconds).toFixed(2).padStart(5)}  ${o.rssMiB.toFixed(0).padStart(12)}  ${p.cpu.toFixed(2)} / ${o.cpu.toFixed(2)}`,
  );
}
if (!args.includes('--keep')) rmSync(work, { recursive: true, force: true });
else console.log(`kept: ${work}`);
