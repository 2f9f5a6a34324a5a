/**
 * A full disk under the backup folder is the operator's problem to fix, not a bug: it is said
 * plainly (which disk, how much is free, what to do), the exit code is the documented one, nothing
 * half-written stays behind, and the databases are not touched. Needs a small tmpfs (mount, as CI's
 * root can); elsewhere the live part skips with one loud line. Why one file of about 750 lines: every case shares
 * the one mounted tmpfs and its fill helpers (a mount per file would cost each its own setup and root check).
 */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statfsSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asOperatorError, DiskFullError, isDiskFull, RespaldoError, VerifyError } from '../src/core/errors.js';
import { decryptError } from '../src/engine/crypt.js';
import type { Manifest } from '../src/core/types.js';
import { silentReporter } from '../src/core/events.js';
import { english, phrase } from '../src/core/phrases.js';
import { loadConfig } from '../src/config/load.js';
import { createEngineFacade } from '../src/ui/engine-facade.js';
import { say, sayInMenu, sayMessage } from '../src/ui/i18n/index.js';
import { lowSpace, refuseFillingDatabaseDisk } from '../src/engine/create-room.js';
import { planBackup } from '../src/engine/create-plan.js';
import { executeRestore, planRestore } from '../src/engine/restore.js';
import { replacedUnlisted, serverDiskFilled } from '../src/engine/restore-databases.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { dbDigest } from './helpers/sqlite.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';
import { FakeServer, fakeMssqlConfig } from './helpers/sqlserver-fake.js';
import { createSqlServerDriver } from '../src/drivers/sqlserver/index.js';
import { ageKeygen, encryptConfig } from './helpers/age.js';

describe('disk full: classification', () => {
  it.each([
    [{ code: 'ENOSPC' }, true],
    [{ code: 'EDQUOT' }, true],
    [{ code: 'SQLITE_FULL' }, true],
    [{ code: 'EACCES' }, false],
    [new Error('plain'), false],
    [null, false],
  ])('%j → %s', (err, full) => {
    expect(isDiskFull(err)).toBe(full);
  });

  it('a full disk or no permission while decrypting is not called damage; a failed authentication is', () => {
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    expect(decryptError(full, 'users.db.zst.age of set X')).toBe(full);
    const denied = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    expect(decryptError(denied, 'users.db.zst.age of set X')).toBe(denied);
    const damaged = decryptError(new Error('failed to decrypt chunk'), 'users.db.zst.age of set X');
    expect(damaged).toBeInstanceOf(VerifyError);
    expect(damaged.message).toMatch(/failed authentication while decrypting .*changed or damaged/);
  });

  it('raw ENOSPC anywhere becomes an operator error with a hint; other errors pass through', () => {
    const raw = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const op = asOperatorError(raw) as RespaldoError;
    expect(op).toBeInstanceOf(RespaldoError);
    expect(op.exitCode).toBe(7);
    expect(op.message).toMatch(/^No space left on the disk/);
    expect(op.hint).toMatch(/respaldo prune --dry-run/);
    const bug = new TypeError('x is undefined');
    expect(asOperatorError(bug)).toBe(bug);
    const denied = asOperatorError(
      Object.assign(new Error("EACCES: permission denied, open '/srv/backups/.respaldo.lock'"), {
        code: 'EACCES',
        path: '/srv/backups/.respaldo.lock',
      }),
    ) as RespaldoError;
    expect(denied.message).toMatch(/^Permission denied on \/srv\/backups\/\.respaldo\.lock/);
    expect(denied.hint).toMatch(/as the user that owns the backup folder/);
    // a disk mounted read-only is not a matter of owners: said as what it is
    const ro = asOperatorError(
      Object.assign(new Error("EROFS: read-only file system, open '/srv/backups/.respaldo.lock'"), {
        code: 'EROFS',
        path: '/srv/backups/.respaldo.lock',
      }),
    ) as RespaldoError;
    expect(ro.message).toMatch(/^Read-only file system on \/srv\/backups\/\.respaldo\.lock/);
    expect(ro.hint).toMatch(/^That disk is mounted read-only .*remount it read-write/);
    expect(ro.hint).not.toMatch(/owns/);
    const d = new DiskFullError('/srv/backups', 'storing users', '12 KB');
    expect(d.message).toBe(
      'No space left on the disk of the backup folder /srv/backups (12 KB free) while storing users.',
    );
  });
});

let mnt = '';
let mounted = false;

/**
 * Without a tmpfs the live tests skip (said loudly in beforeAll), except in CI, which runs as root and must run them.
 */
function skipOrFail(ctx: { skip: () => void }): void {
  if (process.env['CI']) throw new Error('CI must be able to mount a tmpfs for the disk-full tests (it runs as root).');
  ctx.skip();
}

describe('disk full: a real small disk under the backup folder', () => {
  beforeAll(() => {
    mnt = mkdtempSync(join(tmpdir(), 'respaldo-tiny-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt], { stdio: 'pipe' });
      mounted = true;
    } catch (err) {
      console.log(
        `SKIPPED disk-full live tests: cannot mount a tmpfs here (${(err as Error).message.split('\n')[0]}); run as root to include them.`,
      );
    }
  });
  afterAll(() => {
    if (mounted) execFileSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });

  /** The demo setup with its backup folder on the small disk, `fill` KiB of it already used. */
  /**
   * The old server's set, made with the setup's backup folder and copied to a folder destination `nas`; then the
   * config of the new server, whose backup folder is on the small disk.
   */
  async function copiedThenOnSmallDisk(s: DemoSetup): Promise<Manifest> {
    const nas = join(s.dir, 'nas');
    mkdirSync(nas);
    const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
    doc['destinations'] = [{ name: 'nas', type: 'folder', path: nas, source: 'srv1' }];
    writeFileSync(s.configFile, JSON.stringify(doc));
    const made = await runCli(['create', '--json', '--config', s.configFile], { cwd: s.dir });
    expect(made.code, describeResult(made)).toBe(0);
    writeFileSync(s.configFile, JSON.stringify({ ...doc, backupDir: join(mnt, 'backups') }));
    return parseJsonOutput<Manifest>(made.stdout);
  }

  /** Empties the small disk's backup folder and fills the disk so that `bytes` stay free. */
  function leaveFree(bytes: number): void {
    rmSync(join(mnt, 'backups'), { recursive: true, force: true });
    rmSync(join(mnt, 'filler'), { force: true });
    const st = statfsSync(mnt);
    writeFileSync(join(mnt, 'filler'), Buffer.alloc(Math.max(0, st.bavail * st.bsize - bytes)));
  }

  function onSmallDisk(fill: number, scale = 2) {
    rmSync(join(mnt, 'backups'), { recursive: true, force: true });
    rmSync(join(mnt, 'filler'), { force: true });
    writeFileSync(join(mnt, 'filler'), Buffer.alloc(fill * 1024));
    mkdirSync(join(mnt, 'backups'), { recursive: true });
    return demoSetup({ backupDir: join(mnt, 'backups'), files: { config: [], application: [] } }, { scale });
  }

  it('SQL Server: the stored .bak does not fit in localBackupDir: that folder is named, nothing restored, nothing left', async (ctx) => {
    if (!mounted) return skipOrFail(ctx);
    leaveFree(64 << 10);
    const shared = join(mnt, 'shared');
    mkdirSync(shared);
    try {
      const server = new FakeServer(shared);
      server.addDb('users', { 'dbo.Album': 347 });
      const db = fakeMssqlConfig(shared);
      const bak = JSON.stringify({ magic: 'FAKEBAK', database: 'users', id: 'users#b', tables: { 'dbo.Album': 300 } });
      const err = await createSqlServerDriver({ connect: server.connector })
        .restore(
          {
            db,
            entry: {
              name: 'users',
              engine: 'sqlserver',
              file: 'databases/users.bak',
              format: 'mssql-bak',
              compressed: false,
              rawBytes: 1 << 20,
              storedBytes: 1 << 20,
              md5: null,
              sha256: null,
              tables: { 'dbo.Album': 300 },
              durationMs: 1,
              error: null,
              details: {},
            },
            setId: '20261122_101500',
            target: { kind: 'in-place' },
            // A .bak of 1 MiB: the fake server reads the JSON at its start; the rest fills the disk.
            openPart: () => Readable.from([Buffer.from(bak), Buffer.alloc(1 << 20, 32)]),
            terminateConnections: false,
          },
          {
            reporter: silentReporter,
            signal: new AbortController().signal,
            scratchDir: join(mnt, 'scratch'),
            log: () => undefined,
          },
        )
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RespaldoError);
      expect((err as RespaldoError).message).toContain(`No space left on the disk of localBackupDir ${shared}`);
      expect((err as RespaldoError).hint).toMatch(/live database was not touched/);
      expect(server.log.some((r) => r.sql.startsWith('RESTORE'))).toBe(false);
      expect([...server.dbs.keys()]).toEqual(['users']);
      expect(readdirSync(shared).filter((n) => n.endsWith('.bak'))).toEqual([]);
    } finally {
      rmSync(shared, { recursive: true, force: true });
    }
  });

  it('a database that does not fit: named, with the free space and what to do; the others are kept; exit 4', async (ctx) => {
    if (!mounted) return skipOrFail(ctx);
    const s = onSmallDisk(700);
    const before = dbDigest(s.dbs.auditoria);
    const r = await runCli(['create', '--config', s.configFile], { cwd: s.dir });
    expect(r.code, describeResult(r)).toBe(4);
    expect(r.stdout + r.stderr).toMatch(
      /No space left on the disk of the backup folder \S+ \(\S+ \S+ free\) while storing auditoria/,
    );
    expect(r.stdout + r.stderr).toMatch(/hint: Free space there/);
    expect(r.stdout + r.stderr).not.toMatch(/internal error|integrity_check/);
    expect(readdirSync(join(mnt, 'backups')).filter((n) => n.startsWith('.'))).toEqual([]);
    expect(dbDigest(s.dbs.auditoria)).toEqual(before);
  });

  it('a disk with no room at all: exit 7, one clear line and a hint, nothing left behind (not even the lock)', async (ctx) => {
    if (!mounted) return skipOrFail(ctx);
    const s = onSmallDisk(1024);
    const r = await runCli(['create', '--config', s.configFile], { cwd: s.dir });
    expect(r.code, describeResult(r)).toBe(7);
    expect(r.stderr).toMatch(
      /respaldo: No space left on the disk of the backup folder \S+ to write its lock file \(for create\): nothing was started\./,
    );
    expect(r.stderr).toMatch(/hint: Free space there/);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(
      existsSync(join(mnt, 'backups')) ? readdirSync(join(mnt, 'backups')).filter((n) => n !== 'logs') : [],
    ).toEqual([]);
  });
  it('a restore onto a full disk: said so, the partial copy removed, nothing else touched', async (ctx) => {
    if (!mounted) return skipOrFail(ctx);
    const s = demoSetup({ files: { config: [], application: [] } }, { scale: 2 });
    const made = await runCli(['create', '--config', s.configFile], { cwd: s.dir });
    expect(made.code, describeResult(made)).toBe(0);
    rmSync(join(mnt, 'backups'), { recursive: true, force: true });
    rmSync(join(mnt, 'filler'), { force: true });
    writeFileSync(join(mnt, 'filler'), Buffer.alloc(900 * 1024));
    const target = join(mnt, 'auditoria-check.db');
    // The plan says it first: the restore needs more of that disk than it has (a warning: the restore would fail
    // on it, nothing else touched); onto a disk with room, nothing is said.
    const plan = async (to: string) =>
      parseJsonOutput<{ warnings: string[]; refusals: unknown[] }>(
        (
          await runCli(
            ['restore', 'latest', '--db', 'auditoria', '--to', to, '--dry-run', '--json', '--config', s.configFile],
            {
              cwd: s.dir,
            },
          )
        ).stdout,
      );
    const short = await plan(target);
    expect(short.refusals).toEqual([]);
    expect(short.warnings.join('\n')).toMatch(
      new RegExp(
        `^auditoria: restoring needs about \\S+ \\S+ on the disk of ${mnt}, which has \\S+ \\S+ free: the restore would fill it`,
        'm',
      ),
    );
    expect((await plan(join(s.dir, 'roomy.db'))).warnings.join('\n')).not.toMatch(/restoring needs about/);
    const r = await runCli(
      ['restore', 'latest', '--db', 'auditoria', '--to', target, '--yes', '--config', s.configFile],
      { cwd: s.dir },
    );
    expect(r.code, describeResult(r)).toBe(7);
    expect(r.stdout + r.stderr).toContain(`No space left on the disk where auditoria is restored (${target})`);
    expect(r.stdout + r.stderr).toMatch(/hint: The target was not changed and the partial copy was removed/);
    expect(readdirSync(mnt).sort()).toEqual(['filler']);
    // The menu says it in its language, the system's words within too, and its hint names Side by side, not --to.
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const plan2 = await planRestore(cfg, 'latest', { databases: ['auditoria'], to: target });
    const failed = (await executeRestore(cfg, plan2, silentReporter)).databases.find((d) => !d.ok)!;
    expect(sayMessage('es', failed.phrases, failed.error!)).toBe(
      `No queda espacio en el disco donde se restaura auditoria (${target}): no queda espacio en el disco.`,
    );
    expect(sayInMenu('es', failed.phrases?.hint, failed.hint ?? '')).toBe(
      'El destino no cambió y la copia a medias se borró. Libere espacio en ese disco, o restaure Al lado en otro disco.',
    );
    expect(readdirSync(mnt).sort()).toEqual(['filler']);
  });
  /**
   * The demo setup with inventario's live file on the small disk (the backup folder elsewhere), a set made,
   * then the small disk filled so that a restore's staging copy of inventario cannot fit beside it.
   */
  async function liveOnFullDisk() {
    rmSync(join(mnt, 'backups'), { recursive: true, force: true });
    rmSync(join(mnt, 'filler'), { force: true });
    const live = join(mnt, 'inventario.db');
    const s = demoSetup(
      (base) => ({
        ...base,
        files: { config: [], application: [] },
        databases: [
          { name: 'users', engine: 'sqlite', path: './data/users.db' },
          { name: 'inventario', engine: 'sqlite', path: live },
        ],
      }),
      { scale: 1 },
    );
    copyFileSync(s.dbs.inventario, live);
    const made = await runCli(['create', '--json', '--config', s.configFile], { cwd: s.dir });
    expect(made.code, describeResult(made)).toBe(0);
    const avail = Number(
      execFileSync('df', ['--output=avail', '-B1', mnt], { encoding: 'utf8' }).trim().split('\n').pop(),
    );
    writeFileSync(join(mnt, 'filler'), Buffer.alloc(Math.max(0, avail - 16 * 1024)));
    const sets = async () =>
      parseJsonOutput<{ id: string; type: string; databases: string[] }[]>(
        (await runCli(['list', '--json', '--config', s.configFile], { cwd: s.dir })).stdout,
      );
    return { s, live, before: dbDigest(live), sets };
  }

  it('a restore that fails having replaced nothing removes the safety copy it took (retries do not pile them up)', async (ctx) => {
    if (!mounted) return skipOrFail(ctx);
    const { s, live, before, sets } = await liveOnFullDisk();
    const r = await runCli(['restore', 'latest', '--db', 'inventario', '--yes', '--json', '--config', s.configFile], {
      cwd: s.dir,
    });
    expect(r.code, describeResult(r)).toBe(7);
    const out = parseJsonOutput<{ ok: boolean; safetySetIds: string[]; removedSafetySetIds: string[] }>(r.stdout);
    expect(out.ok).toBe(false);
    expect(out.safetySetIds).toEqual([]);
    expect(out.removedSafetySetIds).toHaveLength(1);
    expect(existsSync(join(s.backupDir, out.removedSafetySetIds[0]!))).toBe(false);
    expect(dbDigest(live)).toEqual(before);
    expect((await sets()).filter((x) => x.type === 'pre_restore')).toEqual([]);
    // Again, as an operator retrying would: still nothing piles up, and the text says so.
    const again = await runCli(['restore', 'latest', '--db', 'inventario', '--yes', '--config', s.configFile], {
      cwd: s.dir,
    });
    expect(again.code, describeResult(again)).toBe(7);
    expect(again.stdout).toMatch(
      /Nothing was replaced, so the safety copy taken for this restore \(set \d{8}_\d{6}\S*\) was removed\./,
    );
    expect(dbDigest(live)).toEqual(before);
    expect((await sets()).filter((x) => x.type === 'pre_restore')).toEqual([]);
  });

  it('an in-place restore whose safety copy does not fit the backup folder: said so, nothing restored, no set left', async (ctx) => {
    if (!mounted) return skipOrFail(ctx);
    const s = onSmallDisk(0);
    const made = await runCli(['create', '--db', 'inventario', '--config', s.configFile], { cwd: s.dir });
    expect(made.code, describeResult(made)).toBe(0);
    const before = dbDigest(s.dbs.inventario);
    // room for the restore's lock and journal, not for a snapshot of the live database
    writeFileSync(join(mnt, 'filler'), Buffer.alloc(Math.max(0, statfsSync(mnt).bavail * 4096 - 64 * 1024)));
    const r = await runCli(['restore', 'latest', '--db', 'inventario', '--yes', '--config', s.configFile], {
      cwd: s.dir,
    });
    expect(r.code, describeResult(r)).toBe(7);
    const said = r.stdout + r.stderr;
    expect(said).toMatch(/The safety copy of inventario could not be taken: No space left on the disk of the backup/);
    expect(said).toMatch(/nothing was restored/);
    expect(said).toMatch(/hint: Free space there.*then run the restore again/);
    // what is free once the partial snapshot is gone, not the 0 B of the moment the disk filled
    expect(said).toMatch(/backups \((?!0 B)\d+ KB free\)/);
    // the live database is readable: a full disk is not its damage, and no byte-for-byte copy of it is attempted
    expect(said).not.toMatch(/cannot be read as a SQLite database|Nothing could be backed up|back up again/);
    expect(dbDigest(s.dbs.inventario)).toEqual(before);
    // The menu says it in its language, and its hint names its own Side by side, not the CLI's --to.
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const listed = await runCli(['list', '--json', '--config', s.configFile], { cwd: s.dir });
    const [full] = parseJsonOutput<{ id: string }[]>(listed.stdout);
    const plan = await planRestore(cfg, full!.id, { databases: ['inventario'] });
    const err = (await executeRestore(cfg, plan, silentReporter).catch((e: unknown) => e)) as RespaldoError;
    expect(err).toBeInstanceOf(RespaldoError);
    const inMenu = (lang: 'en' | 'es', key: 'message' | 'hint') => sayInMenu(lang, err.phrases?.[key], err[key] ?? '');
    expect(inMenu('es', 'message')).toMatch(
      /^No se pudo tomar la copia de seguridad previa de inventario: No queda espacio en el disco de la carpeta de copias/,
    );
    expect(inMenu('es', 'hint')).toContain('restaure Al lado, que no necesita copia previa');
    expect(inMenu('en', 'hint')).toContain('restore Side by side instead');
    for (const lang of ['en', 'es'] as const) expect(inMenu(lang, 'hint')).not.toContain('--to');
    expect(dbDigest(s.dbs.inventario)).toEqual(before);
    const sets = parseJsonOutput<{ type: string }[]>(
      (await runCli(['list', '--json', '--config', s.configFile], { cwd: s.dir })).stdout,
    );
    expect(sets.map((x) => x.type)).toEqual(['full']);
    expect(readdirSync(join(mnt, 'backups')).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('a safety copy that fails for one of two databases is said in the menu’s language, names that one, restores nothing', async (ctx) => {
    if (!mounted) return skipOrFail(ctx);
    const s = onSmallDisk(0, 1);
    const made = await runCli(['create', '--db', 'users', '--db', 'inventario', '--config', s.configFile], {
      cwd: s.dir,
    });
    expect(made.code, describeResult(made)).toBe(0);
    const before = { users: dbDigest(s.dbs.users), inventario: dbDigest(s.dbs.inventario) };
    // room for the copy of users (64 KB live), not for that of inventario (264 KB)
    rmSync(join(mnt, 'filler'), { force: true });
    writeFileSync(join(mnt, 'filler'), Buffer.alloc(Math.max(0, statfsSync(mnt).bavail * 4096 - 160 * 1024)));
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const plan = await planRestore(cfg, 'latest', { databases: ['users', 'inventario'] });
    const err = (await executeRestore(cfg, plan, silentReporter).catch((e: unknown) => e)) as RespaldoError;
    expect(err).toBeInstanceOf(RespaldoError);
    expect(err.message).toMatch(
      /^The safety copy of inventario could not be taken: No space left on the disk of the backup folder .*; nothing was restored\.$/,
    );
    const inMenu = (lang: 'en' | 'es', key: 'message' | 'hint') => sayInMenu(lang, err.phrases?.[key], err[key] ?? '');
    expect(inMenu('es', 'message')).toMatch(
      /^No se pudo tomar la copia de seguridad previa de inventario: No queda espacio en el disco de la carpeta de copias .*; no se restauró nada\.$/,
    );
    expect(inMenu('es', 'hint')).toContain('restaure Al lado, que no necesita copia previa');
    expect(`${inMenu('es', 'message')} ${inMenu('es', 'hint')}`).not.toMatch(/could not|No space|Free space|--to/);
    expect(dbDigest(s.dbs.users)).toEqual(before.users);
    expect(dbDigest(s.dbs.inventario)).toEqual(before.inventario);
    const listed = await runCli(['list', '--json', '--config', s.configFile], { cwd: s.dir });
    expect(parseJsonOutput<{ type: string }[]>(listed.stdout).map((x) => x.type)).toEqual(['full']);
  });

  it('a restore that replaced one database before failing on the next keeps its safety copy and says how to roll back', async (ctx) => {
    if (!mounted) return skipOrFail(ctx);
    const { s, live, before, sets } = await liveOnFullDisk();
    const r = await runCli(
      ['restore', 'latest', '--db', 'users', '--db', 'inventario', '--yes', '--config', s.configFile],
      {
        cwd: s.dir,
      },
    );
    // Partial (4): users was replaced; 7 would say nothing was changed.
    expect(r.code, describeResult(r)).toBe(4);
    expect(r.stdout).toMatch(/^restored users/m);
    expect(r.stdout).toMatch(/^FAILED +inventario: No space left/m);
    const kept = (await sets()).filter((x) => x.type === 'pre_restore');
    expect(kept).toHaveLength(1);
    expect(kept[0]!.databases.sort()).toEqual(['inventario', 'users']);
    expect(r.stdout).toContain(
      `Safety copy: set ${kept[0]!.id}. To roll back: respaldo restore ${kept[0]!.id} --db users --yes`,
    );
    expect(r.stderr).not.toContain('safety copy taken for this restore');
    expect(dbDigest(live)).toEqual(before);
  });

  it('a drill of a copy at a destination with no room to fetch it: exit 7, said with the figures, nothing kept or recorded', async (ctx) => {
    if (!mounted) return skipOrFail(ctx);
    const s = demoSetup({ files: { config: [], application: [] } }, { scale: 2 });
    const m = await copiedThenOnSmallDisk(s);
    const needed = m.databases.reduce((n, d) => n + d.storedBytes, 0);
    leaveFree(needed - 64 * 1024);
    const r = await runCli(['drill', m.id, '--from', 'nas', '--config', s.configFile], { cwd: s.dir });
    expect(r.code, describeResult(r)).toBe(7);
    expect(r.stderr).toMatch(
      new RegExp(
        `^respaldo: Set ${m.id} at destination "nas" cannot be drilled here: a drill fetches it into the backup folder ` +
          `first, and no room to fetch it first: it needs \\S+ \\S+, the disk of \\S+ has \\S+ \\S+ free\\. ` +
          'Nothing was drilled or recorded; nothing fetched was kept\\.',
        'm',
      ),
    );
    expect(r.stderr).toMatch(/hint: Free space on the disk of .*, drill fewer databases at a time with --db/);
    expect(readdirSync(join(mnt, 'backups')).filter((n) => n !== 'logs')).toEqual([]);
  });
  it('a restore from a destination whose fetch does not fit the backup folder streams it instead, nothing fetched', async (ctx) => {
    if (!mounted) return skipOrFail(ctx);
    // The set made on the old server and copied to a folder destination; the new server's backup folder is the
    // small disk.
    const s = demoSetup({ files: { config: [], application: [] } }, { scale: 2 });
    const m = await copiedThenOnSmallDisk(s);
    const needed = m.databases.reduce((n, d) => n + d.storedBytes, 0);
    const restore = () =>
      runCli(['restore', m.id, '--from', 'nas', '--to', join(s.dir, 'restored'), '--yes', '--config', s.configFile], {
        cwd: s.dir,
      });

    // Less room than the set's files: nothing is fetched, the files are streamed into the restore.
    leaveFree(needed - 64 * 1024);
    const r = await restore();
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `Set ${m.id} at destination "nas": .* each is streamed into the restore and checked as it is read \\(no room to fetch it first: it needs \\S+ \\S+, the disk of \\S+ has \\S+ \\S+ free\\)\\.`,
      ),
    );
    expect(readdirSync(join(mnt, 'backups')).filter((n) => n !== 'logs')).toEqual([]);
    for (const name of ['users', 'inventario', 'auditoria'] as const)
      expect(dbDigest(join(s.dir, 'restored', `${name}.db`)), name).toEqual(dbDigest(s.dbs[name]!));

    // The menu's restore from a destination (the real facade) streams the same way, and its plan says so.
    const facade = createEngineFacade(await loadConfig({ configPath: s.configFile }));
    const to = join(s.dir, 'menu-restored');
    const plan = await facade.planRestore({ from: 'nas', setId: m.id, databases: [], files: false, to });
    expect(plan.options.filesAt).toEqual({ name: 'nas', streamed: true });
    expect(plan.refusals).toEqual([]);
    const outcome = await facade.executeRestore(plan, silentReporter);
    expect(outcome.ok, JSON.stringify(outcome)).toBe(true);
    for (const name of ['users', 'inventario', 'auditoria'] as const)
      expect(dbDigest(join(to, `${name}.db`)), name).toEqual(dbDigest(s.dbs[name]!));
    expect(readdirSync(join(mnt, 'backups')).filter((n) => n !== 'logs')).toEqual([]);
  });

  it('a disk that fills in the middle of a fetch: what was fetched is removed and the rest streams; restored', async (ctx) => {
    if (!mounted) return skipOrFail(ctx);
    // 150 small application files: each takes a whole page of the disk, which the sizes in the manifest do not say.
    const s = demoSetup({ files: { config: [], application: [{ path: './data/many', include: ['**'] }] } });
    mkdirSync(join(s.dir, 'data', 'many'), { recursive: true });
    for (let i = 0; i < 150; i++) writeFileSync(join(s.dir, 'data', 'many', `f${i}.txt`), `file ${i}\n`);
    const m = await copiedThenOnSmallDisk(s);
    leaveFree(400 * 1024);
    const to = join(s.dir, 'restored-files');
    const r = await runCli(
      ['restore', m.id, '--from', 'nas', '--files', '--to', to, '--yes', '--config', s.configFile],
      {
        cwd: s.dir,
      },
    );
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toMatch(
      /each is streamed into the restore and checked as it is read \(the disk of \S+ filled while fetching it\)\./,
    );
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(readdirSync(join(to, 'application', 'many'))).toHaveLength(150);
    for (let i = 0; i < 150; i++)
      expect(readFileSync(join(to, 'application', 'many', `f${i}.txt`), 'utf8')).toBe(`file ${i}\n`);
    expect(readdirSync(join(mnt, 'backups')).filter((n) => n !== 'logs')).toEqual([]);
  });

  it('application files count in the room a fetch needs (their manifest records no stored size): streamed', async (ctx) => {
    if (!mounted) return skipOrFail(ctx);
    const s = demoSetup({ files: { config: [], application: [{ path: './data/big', include: ['**'] }] } });
    mkdirSync(join(s.dir, 'data', 'big'), { recursive: true });
    const blob = randomBytes(1536 * 1024);
    writeFileSync(join(s.dir, 'data', 'big', 'blob.bin'), blob);
    const m = await copiedThenOnSmallDisk(s);
    leaveFree(512 * 1024);
    const to = join(s.dir, 'restored-files');
    const args = ['restore', m.id, '--from', 'nas', '--files', '--to', to, '--yes', '--config', s.configFile];
    const r = await runCli(args, { cwd: s.dir });
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toMatch(
      /each is streamed into the restore and checked as it is read \(no room to fetch it first: it needs 1\.\d MB/,
    );
    expect(readFileSync(join(to, 'application', 'big', 'blob.bin')).equals(blob)).toBe(true);
    expect(readdirSync(join(mnt, 'backups')).filter((n) => n !== 'logs')).toEqual([]);
  });

  it('an encrypted chain from a destination counts the room to decrypt its earlier set: without it, streamed', async (ctx) => {
    if (!mounted) return skipOrFail(ctx);
    const s = demoSetup({ files: { config: [], application: [] } });
    const nas = join(s.dir, 'nas');
    mkdirSync(nas);
    const keyFile = join(s.dir, 'key.txt');
    const recipient = ageKeygen(keyFile);
    const doc = {
      ...(JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>),
      // encrypted only there: the chain is built here, each of its sets encrypted on the way
      encryption: { recipients: [recipient], identityFile: keyFile, local: false },
      destinations: [{ name: 'nas', type: 'folder', path: nas, source: 'srv1', encrypt: true }],
    };
    writeFileSync(s.configFile, JSON.stringify(doc));
    const make = async (type: string) => {
      const r = await runCli(['create', '--type', type, '--db', 'auditoria', '--json', '--config', s.configFile], {
        cwd: s.dir,
      });
      expect(r.code, describeResult(r)).toBe(0);
      return parseJsonOutput<Manifest>(r.stdout);
    };
    const stored = (m: Manifest) =>
      m.databases.reduce((n, d) => n + d.storedBytes + (d.extras ?? []).reduce((x, e) => x + e.storedBytes, 0), 0);
    const full = await make('full');
    const db = new Database(s.dbs.auditoria);
    db.exec("CREATE TABLE later(x); INSERT INTO later VALUES ('after the full')");
    db.close();
    const inc = await make('incremental');
    expect(inc.type, JSON.stringify(inc.chainNotes)).toBe('incremental');
    // The new server: its backup folder on the small disk, with room for the fetched files and half the full.
    writeFileSync(s.configFile, JSON.stringify({ ...doc, backupDir: join(mnt, 'backups') }));
    leaveFree(stored(full) + stored(inc) + Math.floor(stored(full) / 2));
    const r = await runCli(
      ['restore', inc.id, '--from', 'nas', '--to', join(s.dir, 'restored.db'), '--yes', '--config', s.configFile],
      { cwd: s.dir },
    );
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toContain(
      'each is streamed into the restore and checked as it is read (no room to fetch it first',
    );
    expect(readdirSync(join(mnt, 'backups')).filter((n) => n !== 'logs')).toEqual([]);
    expect(dbDigest(join(s.dir, 'restored.db'))).toEqual(dbDigest(s.dbs.auditoria));
  });

  it('an encrypted set with no room to decrypt it first is decrypted as it is restored (not called damaged)', async (ctx) => {
    if (!mounted) return skipOrFail(ctx);
    const s = onSmallDisk(0, 1);
    encryptConfig(s.configFile, s.dir);
    const made = await runCli(['create', '--db', 'inventario', '--config', s.configFile], { cwd: s.dir });
    expect(made.code, describeResult(made)).toBe(0);
    const st = statfsSync(mnt);
    writeFileSync(join(mnt, 'filler'), Buffer.alloc(Math.max(0, st.bavail * st.bsize - 16 * 1024)));
    const r = await runCli(
      ['restore', 'latest', '--db', 'inventario', '--to', join(s.dir, 'check.db'), '--yes', '--config', s.configFile],
      { cwd: s.dir },
    );
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stderr).toMatch(
      /warning: The backup folder \S+ has no room to decrypt set \S+ whole first \(\S+ \S+ needed, \S+ \S+ free\): each file is decrypted and checked as it is restored/,
    );
    expect(r.stderr).not.toMatch(/damaged|failed authentication/);
    expect(readdirSync(join(mnt, 'backups')).filter((n) => n.startsWith('.'))).toEqual([]);
    expect(dbDigest(join(s.dir, 'check.db'))).toEqual(dbDigest(s.dbs.inventario));
  });

  it('with its files too: each file decrypted as it is restored, read by its entry (none held)', async (ctx) => {
    if (!mounted) return skipOrFail(ctx);
    rmSync(join(mnt, 'backups'), { recursive: true, force: true });
    rmSync(join(mnt, 'filler'), { force: true });
    mkdirSync(join(mnt, 'backups'), { recursive: true });
    const s = demoSetup(
      { backupDir: join(mnt, 'backups'), files: { config: [], application: [{ path: './data/uploads' }] } },
      { scale: 1 },
    );
    const uploads = join(s.dataDir, 'uploads');
    mkdirSync(join(uploads, 'a'), { recursive: true });
    for (let i = 0; i < 30; i++) writeFileSync(join(uploads, 'a', `f${i}.txt`), `upload ${i}\n`.repeat(i + 1));
    encryptConfig(s.configFile, s.dir);
    const made = await runCli(['create', '--db', 'inventario', '--config', s.configFile], { cwd: s.dir });
    expect(made.code, describeResult(made)).toBe(0);
    const st = statfsSync(mnt);
    writeFileSync(join(mnt, 'filler'), Buffer.alloc(Math.max(0, st.bavail * st.bsize - 16 * 1024)));
    const to = join(s.dir, 'back');
    const r = await runCli(
      ['restore', 'latest', '--db', 'inventario', '--files', '--to', to, '--yes', '--config', s.configFile],
      { cwd: s.dir },
    );
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stderr).toMatch(/has no room to decrypt set \S+ whole first/);
    for (let i = 0; i < 30; i++)
      expect(readFileSync(join(to, 'files', 'application', 'uploads', 'a', `f${i}.txt`), 'utf8')).toBe(
        `upload ${i}\n`.repeat(i + 1),
      );
    expect(dbDigest(join(to, 'inventario.db'))).toEqual(dbDigest(s.dbs.inventario));
  });

  it('a backup folder not made yet: status counts the free space of the disk it will be on, not the config folder', async (ctx) => {
    if (!mounted) return skipOrFail(ctx);
    rmSync(join(mnt, 'backups'), { recursive: true, force: true });
    rmSync(join(mnt, 'filler'), { force: true });
    const s = demoSetup({ backupDir: join(mnt, 'backups', 'not-yet'), files: { config: [], application: [] } });
    const r = await runCli(['status', '--json', '--config', s.configFile], { cwd: s.dir });
    expect(r.code, describeResult(r)).toBe(0);
    const st = statfsSync(mnt);
    const free = parseJsonOutput<{ freeBytes: number }>(r.stdout).freeBytes;
    expect(free).toBeLessThanOrEqual(st.blocks * st.bsize); // the 1 MiB disk, not the test folder's
    expect(free).toBeGreaterThan(st.bavail * st.bsize - 64 * 1024);
    expect(existsSync(join(mnt, 'backups'))).toBe(false); // status makes nothing
  });

  it('warns before the run when the disk has less room than the last set took', async (ctx) => {
    if (!mounted) return skipOrFail(ctx);
    const s = onSmallDisk(0, 1);
    const first = await runCli(['create', '--db', 'users', '--config', s.configFile], { cwd: s.dir });
    expect(first.code, describeResult(first)).toBe(0);
    expect(first.stderr).not.toMatch(/may not fit/);
    const free = Number(
      execFileSync('df', ['--output=avail', '-B1', mnt], { encoding: 'utf8' }).trim().split('\n').pop(),
    );
    writeFileSync(join(mnt, 'filler'), Buffer.alloc(Math.max(0, free - 48 * 1024)));
    const second = await runCli(['create', '--db', 'users', '--config', s.configFile], { cwd: s.dir });
    // An estimate, said as one: from what the last set stored, not what it "needed"
    expect(second.stdout + second.stderr).toMatch(
      /The disk of the backup folder \S+ has \S+ \S+ free; this backup is estimated to need about \S+ \S+ while it is written \(what the last full set, \d{8}_\d{6}, stored \(\S+ \S+\), with the database snapshots and dump files written beside it, and a fifth to spare\)\. This backup may not fit/,
    );
    // The menu says it in Spanish: the same estimate, the same words
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const warned = (await lowSpace(cfg, planBackup(cfg, { databases: ['users'], files: false })))!;
    expect(say('es', warned.phrase, warned.message)).toMatch(
      /^El disco de la carpeta de copias \S+ tiene \S+ \S+ libres; se estima que esta copia necesita unos \S+ \S+ mientras se escribe \(lo que guardó la última copia completa, \d{8}_\d{6} \(\S+ \S+\), más las instantáneas de las bases de datos y los archivos de volcado escritos a su lado, y una quinta parte de margen\)\. Puede que esta copia no quepa/,
    );
  });

  it("a database server's session that ended while its own disk is full is said as that disk filling", async (ctx) => {
    if (!mounted) return skipOrFail(ctx);
    leaveFree(0);
    try {
      const full = { path: mnt, device: statSync(mnt).dev, freeBytes: 0, server: true };
      // PostgreSQL PANICs when its WAL cannot be written: pg_restore only sees its session end.
      const ended = new Error('pg_restore: error: server closed the connection unexpectedly');
      const said = await serverDiskFilled(full, ended);
      expect(said?.message).toBe(ended.message);
      // The server went away (a drill then did not run: exit 7, nothing recorded), because its disk filled.
      expect(said?.details).toMatchObject({ serverAway: true, serverDiskFull: true });
      expect(said?.exitCode).toBe(7);
      // A drill stopped so says it in its own words, in both languages.
      const stopped = phrase('drill.stoppedServerDiskFull', { set: 'S1', db: 'ledger' });
      expect(english(stopped)).toBe(
        "The drill of set S1 stopped (the disk of ledger's server filled during its scratch restore): nothing was recorded, and the set is not called bad.",
      );
      expect(sayInMenu('es', stopped, english(stopped))).toMatch(
        /^El simulacro de la copia S1 se detuvo \(se llenó el disco/,
      );
      expect(said?.hint).toMatch(
        new RegExp(
          `^The database server ran out of disk space: its data folder ${mnt} has \\S+ \\S+ free, and PostgreSQL stopped every session`,
        ),
      );
      // the menu says it in Spanish, the server's own words kept
      expect(sayMessage('es', said?.phrases, said!.message)).toBe(
        'El servidor de la base cerró la sesión: pg_restore: error: server closed the connection unexpectedly',
      );
      expect(sayInMenu('es', said?.phrases?.hint, said!.hint!)).toMatch(
        new RegExp(
          `^El servidor de la base se quedó sin espacio en disco: su carpeta de datos ${mnt} tiene \\S+ \\S+ libres`,
        ),
      );
      // a full disk under the backup folder when the replaced databases are listed: said in Spanish, names kept
      let raw: unknown;
      try {
        writeFileSync(join(mnt, 'more'), Buffer.alloc(1 << 20));
      } catch (err) {
        raw = err;
      }
      expect((raw as NodeJS.ErrnoException).code).toBe('ENOSPC');
      const unlisted = replacedUnlisted([{ name: 'ledger', safetyDatabase: 'ledger__pre_restore_S1' }], raw);
      expect(unlisted.message).toMatch(
        /^The replaced databases are kept on their servers \(ledger as "ledger__pre_restore_S1"\), but listing them in a pre_restore set failed: /,
      );
      const es = sayMessage('es', unlisted.phrases, unlisted.message);
      expect(es).toMatch(
        /^Las bases reemplazadas se conservan en sus servidores \(ledger como "ledger__pre_restore_S1"\), pero no se pudieron anotar en una copia pre_restore: /,
      );
      expect(es).not.toMatch(/no space left|ENOSPC|Disk full|disk is full/i);
      expect(sayInMenu('es', unlisted.phrases?.hint, unlisted.hint!)).toMatch(
        /^No se pierde nada: esas bases son la vuelta atrás/,
      );
      // Not a server's disk, another failure, or a disk with room: as it was.
      expect(await serverDiskFilled({ ...full, server: false }, ended)).toBeNull();
      expect(await serverDiskFilled(full, new Error('permission denied for table orders'))).toBeNull();
      expect(await serverDiskFilled({ ...full, path: tmpdir() }, ended)).toBeNull();
    } finally {
      rmSync(join(mnt, 'filler'), { force: true });
      rmSync(join(mnt, 'more'), { force: true });
    }
  });

  it('refuses a backup short of room when the SQLite database lives on that disk too: filled, its writes would fail', async (ctx) => {
    if (!mounted) return skipOrFail(ctx);
    const s = onSmallDisk(0, 1);
    // The users database on the small disk beside the backup folder, as on a server with one disk.
    const live = join(mnt, 'users.db');
    copyFileSync(s.dbs.users, live);
    rmSync(s.dbs.users);
    const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as { databases: { name: string; path: string }[] };
    doc.databases.find((d) => d.name === 'users')!.path = live;
    writeFileSync(s.configFile, JSON.stringify(doc));
    const sets = () => readdirSync(join(mnt, 'backups')).filter((n) => /^\d{8}_\d{6}/.test(n));
    try {
      const first = await runCli(['create', '--db', 'users', '--config', s.configFile], { cwd: s.dir });
      expect(first.code, describeResult(first)).toBe(0);
      const free = statfsSync(mnt).bavail * statfsSync(mnt).bsize;
      writeFileSync(join(mnt, 'filler'), Buffer.alloc(Math.max(0, free - 48 * 1024)));
      const refused = await runCli(['create', '--db', 'users', '--config', s.configFile], { cwd: s.dir });
      expect(refused.code, describeResult(refused)).toBe(9);
      expect(refused.stderr).toMatch(
        /^respaldo: Not backing up: the backup folder \S+ is on the disk of the SQLite files of users, which has \S+ \S+ free; this backup is estimated to need about \S+ \S+ \(what the last full set, \d{8}_\d{6}, stored \(\S+ \S+\), with the database snapshots and dump files written beside it, and a fifth to spare\)\. Filled, the application's writes to them would fail/m,
      );
      const cfg = await loadConfig({ configPath: s.configFile, env: {} });
      const err = (await refuseFillingDatabaseDisk(cfg, planBackup(cfg, { databases: ['users'] })).catch(
        (e: unknown) => e,
      )) as RespaldoError;
      expect(sayMessage('es', err.phrases, err.message)).toMatch(
        /^No se hace la copia: la carpeta de copias \S+ está en el disco de los ficheros SQLite de users, que tiene \S+ \S+ libres; se estima que esta copia necesita unos \S+ \S+ \(lo que guardó la última copia completa, \d{8}_\d{6} \(\S+ \S+\), más las instantáneas/,
      );
      expect(refused.stderr).toMatch(/hint: .* run respaldo create --ignore-free-space\./);
      expect(sets()).toHaveLength(1);
      expect(readdirSync(join(mnt, 'backups')).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
      // The operator's call: tried all the same, whatever the disk then says.
      const forced = await runCli(['create', '--db', 'users', '--ignore-free-space', '--config', s.configFile], {
        cwd: s.dir,
      });
      expect(forced.code, describeResult(forced)).not.toBe(9);
      expect(forced.stderr).not.toMatch(/Not backing up/);
    } finally {
      rmSync(live, { force: true });
    }
  });
});
