import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import type { Manifest, SetSummary } from '../src/core/types.js';
import { createBackup } from '../src/engine/create.js';
import { planRestore } from '../src/engine/restore-plan.js';
import { planRows } from '../src/ui/screens/restore-rows.js';
import { catalogue } from '../src/ui/i18n/index.js';
import { createTheme } from '../src/ui/theme.js';
import { listSets } from '../src/engine/catalog.js';
import { baseSetId, isSetId, newSetId } from '../src/engine/set-id.js';
import type { StatusReport } from '../src/engine/status.js';
import type { VerifyReport } from '../src/engine/verify.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { FakeReporter } from './helpers/reporter.js';
import { readStored } from './helpers/stored.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

async function cli(s: DemoSetup, args: string[], expectCode = 0) {
  const r = await runCli([...args, '--config', s.configFile], { cwd: s.dir });
  expect(r.code, `respaldo ${args.join(' ')}\n${describeResult(r)}`).toBe(expectCode);
  return r;
}

/** stdout must be exactly one JSON document followed by a newline. */
function oneJson<T>(stdout: string): T {
  expect(stdout.endsWith('\n')).toBe(true);
  expect(stdout.trimStart()).toBe(stdout);
  return parseJsonOutput<T>(stdout);
}

function du(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? du(p) : e.isFile() ? statSync(p).size : 0;
  }
  return total;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('--json gives one document on stdout', () => {
  it('create, list (newest first), show, status, verify', async () => {
    const s = demoSetup();
    const a = oneJson<Manifest>((await cli(s, ['create', '--json', '--description', 'first'])).stdout);
    const b = oneJson<Manifest>((await cli(s, ['create', '--json', '--no-files', '--db', 'users'])).stdout);
    expect(a.id).not.toBe(b.id);
    expect(b.files).toEqual([]);
    expect(b.databases.map((d) => d.name)).toEqual(['users']);

    const list = oneJson<SetSummary[]>((await cli(s, ['list', '--json'])).stdout);
    expect(list.map((x) => x.id)).toEqual([b.id, a.id]);
    expect(list[1]).toMatchObject({
      id: a.id,
      type: 'full',
      status: 'completed',
      description: 'first',
      files: a.files.length,
      storedBytes: a.totals.storedBytes,
      keep: false,
      lastVerified: null,
      path: join(s.backupDir, a.id),
    });
    expect(list[1]!.databases.sort()).toEqual(['auditoria', 'inventario', 'users']);
    const onlyInv = oneJson<SetSummary[]>((await cli(s, ['list', '--json', '--db', 'inventario'])).stdout);
    expect(onlyInv.map((x) => x.id)).toEqual([a.id]);

    const shown = oneJson<Manifest>((await cli(s, ['show', a.id, '--json'])).stdout);
    expect(shown).toEqual(a);
    expect(oneJson<Manifest>((await cli(s, ['show', 'latest', '--json'])).stdout).id).toBe(b.id);

    const v = oneJson<VerifyReport>((await cli(s, ['verify', a.id, '--json'])).stdout);
    expect(v).toMatchObject({ setId: a.id, ok: true });
    expect(v.files.every((f) => f.ok)).toBe(true);

    const st = oneJson<StatusReport>((await cli(s, ['status', '--json'])).stdout);
    expect(st.configFile).toBe(s.configFile);
    expect(st.backupDir).toBe(s.backupDir);
    expect(st.sets).toBe(2);
    expect(st.totalBytes).toBe(du(join(s.backupDir, a.id)) + du(join(s.backupDir, b.id)));
    expect(st.newest?.id).toBe(b.id);
    const per = Object.fromEntries(st.newestPerDatabase.map((d) => [d.database, d.setId]));
    expect(per).toEqual({ users: b.id, inventario: a.id, auditoria: a.id });
    for (const d of st.newestPerDatabase) {
      expect(d.engine).toBe('sqlite');
      expect(d.ageSeconds).toBeGreaterThanOrEqual(0);
      expect(d.ageSeconds).toBeLessThan(600);
    }
    expect(st.freeBytes).toBeGreaterThan(0);
    expect(st.lock).toEqual({ held: false, holder: null });
    expect(st.leftovers).toEqual([]);
    expect(st.safetySets).toEqual([]);
    // The fetch folder of a killed restore --from is a leftover; one of a restore still running is not.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    for (const pid of [dead, process.pid])
      mkdirSync(join(s.backupDir, `.respaldo-restore-fetch-${pid}`, 'x'), { recursive: true });
    const after = oneJson<StatusReport>((await cli(s, ['status', '--json'])).stdout);
    expect(after.leftovers).toEqual([`.respaldo-restore-fetch-${dead}`]);
    for (const pid of [dead, process.pid])
      rmSync(join(s.backupDir, `.respaldo-restore-fetch-${pid}`), { recursive: true });
    // verify recorded its outcome
    expect(
      oneJson<SetSummary[]>((await cli(s, ['list', '--json'])).stdout).find((x) => x.id === a.id)!.lastVerified?.ok,
    ).toBe(true);
  });

  it('errors under --json are one JSON document too, with the exit code', async () => {
    const s = demoSetup();
    const r = await cli(s, ['show', '20000101_000000', '--json'], 8);
    const err = oneJson<{ error: string; message: string; hint: string; exitCode: number }>(r.stdout);
    expect(err).toMatchObject({ error: 'notFound', exitCode: 8 });
    expect(r.stderr).toContain('20000101_000000');
    const list = oneJson<SetSummary[]>((await cli(s, ['list', '--json'])).stdout);
    expect(list).toEqual([]);
    // a copy with no destination configured: the config error, as a document too (stdout was empty)
    const copy = oneJson<{ error: string; message: string; exitCode: number }>(
      (await cli(s, ['copy', '--json'], 3)).stdout,
    );
    expect(copy).toMatchObject({ error: 'config', exitCode: 3 });
    expect(copy.message).toMatch(/destinations: none is configured; nothing to copy$/);
  });

  it('status: the newest set of a database may be an incremental or differential, never a schema set', async () => {
    const s = demoSetup();
    const full = oneJson<Manifest>((await cli(s, ['create', '--json', '--no-files'])).stdout);
    const inc = oneJson<Manifest>(
      (await cli(s, ['create', '--json', '--no-files', '--db', 'users', '--type', 'incremental'])).stdout,
    );
    await cli(s, ['create', '--json', '--no-files', '--db', 'inventario', '--type', 'schema']);
    const st = oneJson<StatusReport>((await cli(s, ['status', '--json'])).stdout);
    const per = Object.fromEntries(st.newestPerDatabase.map((d) => [d.database, [d.setId, d.type]]));
    expect(per).toEqual({
      users: [inc.id, 'incremental'],
      inventario: [full.id, 'full'],
      auditoria: [full.id, 'full'],
    });
    expect((await cli(s, ['status'])).stdout).toMatch(new RegExp(`^users +sqlite +${inc.id} \\(incremental\\) `, 'm'));
  });

  it('status text on a fresh setup reads well and creates nothing', async () => {
    const s = demoSetup();
    const r = await cli(s, ['status']);
    expect(r.stdout).toContain(`Backups in:  ${s.backupDir}`);
    expect(r.stdout).toContain('Sets:        0');
    expect(r.stdout).toMatch(/users\s+sqlite\s+none\s+never/);
    expect(existsSync(s.backupDir)).toBe(false);
  });
});

describe('descriptions never reach a terminal as control characters', () => {
  it('create refuses one with an escape sequence (exit 2, no set); show prints one read from a manifest with ?', async () => {
    const s = demoSetup();
    const r = await cli(s, ['create', '--no-files', '--description', 'before \u001b]0;owned\u0007 upgrade'], 2);
    expect(r.stderr).toContain('The description holds a control character');
    expect(parseJsonOutput<SetSummary[]>((await cli(s, ['list', '--json'])).stdout)).toEqual([]);
    // a manifest written elsewhere (a set fetched from a destination) may hold one
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json', '--no-files'])).stdout);
    const file = join(s.backupDir, m.id, 'manifest.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"description": null', '"description": "x\\u001b[2Jy\\r"'));
    const shown = (await cli(s, ['show', m.id])).stdout;
    expect(shown).toContain('  description: x?[2Jy?\n');
    expect(shown).not.toContain('\u001b');
  });
});

describe('delete', () => {
  it('with --yes removes the set; without a terminal and without --yes it refuses', async () => {
    const s = demoSetup();
    const a = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    const b = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    const refused = await cli(s, ['delete', a.id], 9);
    expect(refused.stderr).toContain('--yes');
    expect(existsSync(join(s.backupDir, a.id))).toBe(true);

    const r = await cli(s, ['delete', a.id, '--yes', '--json']);
    expect(oneJson(r.stdout)).toEqual({ deleted: a.id });
    expect(existsSync(join(s.backupDir, a.id))).toBe(false);
    expect(readdirSync(s.backupDir).filter((n) => n.startsWith('.deleting-'))).toEqual([]);
    expect(parseJsonOutput<SetSummary[]>((await cli(s, ['list', '--json'])).stdout).map((x) => x.id)).toEqual([b.id]);

    await cli(s, ['delete', a.id, '--yes'], 8);
    await cli(s, ['delete', '../logs', '--yes'], 2);
    expect(existsSync(join(s.backupDir, 'logs'))).toBe(true);

    // a set the operator marked keep goes only when named, and the output says what it was
    await cli(s, ['keep', b.id]);
    expect((await cli(s, ['delete', b.id, '--yes'])).stdout).toBe(`Deleted set ${b.id} (it was marked keep).\n`);
  });

  it('a manifest listing a renamed safety database for SQLite is refused (exit 9), deleting nothing', async () => {
    const s = demoSetup();
    const a = parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--json'])).stdout);
    const file = join(s.backupDir, a.id, 'manifest.json');
    const m = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
    m.databases[0]!.safetyDatabase = 'users__pre_restore_x';
    writeFileSync(file, JSON.stringify(m));
    const r = await cli(s, ['delete', a.id, '--yes'], 9);
    expect(r.stderr).toContain('users__pre_restore_x');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(file)).toBe(true);
  });
});

describe('the restore plan', () => {
  it('of a database that does not exist now: nothing to keep, its steps and rollback say it is created; the restore takes no copy', async () => {
    const s = demoSetup();
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    for (const x of ['', '-wal', '-shm']) rmSync(s.dbs.inventario + x, { force: true });
    const dry = await cli(s, ['restore', m.id, '--db', 'inventario', '--dry-run']);
    expect(dry.stdout).toContain('CREATES it in place: it does not exist now, nothing is replaced');
    expect(dry.stdout).not.toContain('REPLACES');
    expect(dry.stdout).toContain('safety: nothing to keep (it does not exist now)');
    expect(dry.stdout).toContain(
      `rename it to ${s.dbs.inventario} (no database is there now; it takes the owner of its folder)`,
    );
    expect(dry.stdout).toContain(`roll back: delete ${s.dbs.inventario}`);
    expect(dry.stdout).not.toContain('pre_restore');
    expect(dry.stdout).toContain('safety copy: inventario: nothing to keep, it does not exist now');
    const r = await cli(s, ['restore', m.id, '--db', 'inventario', '--yes']);
    expect(r.stdout).not.toContain('To roll back');
    expect(readdirSync(s.backupDir).filter(isSetId)).toEqual([m.id]); // no pre_restore set
    expect(existsSync(s.dbs.inventario)).toBe(true);
  });

  it('a database moved away that left its -wal (its last commits): in place and side by side refused, the -wal kept', async () => {
    const s = demoSetup();
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--no-files', '--json'])).stdout);
    // A commit that stays in the -wal (no checkpoint), then the database moved away by hand: the -wal stays behind
    // (killed: a closing connection would checkpoint the -wal into the file and remove it)
    const script = `const db = new (require('better-sqlite3'))(${JSON.stringify(s.dbs.users)});
      db.pragma('journal_mode = WAL'); db.pragma('wal_autocheckpoint = 0');
      db.prepare("INSERT INTO roles(name) VALUES ('late')").run(); process.kill(process.pid, 'SIGKILL');`;
    const writer = spawnSync(process.execPath, ['-e', script], { cwd: process.cwd(), encoding: 'utf8' });
    expect(writer.signal, writer.stderr).toBe('SIGKILL');
    const wal = `${s.dbs.users}-wal`;
    expect(statSync(wal).size).toBeGreaterThan(0);
    const walBytes = readFileSync(wal);
    rmSync(s.dbs.users);
    for (const args of [[], ['--to', s.dbs.users]]) {
      const r = await cli(s, ['restore', m.id, '--db', 'users', ...args, '--yes'], 9);
      expect(r.stderr).toContain(`${s.dbs.users} is not there, but users.db-wal beside it holds the last commits`);
      expect(r.stderr).toContain('hint: Move it from');
      expect(readFileSync(wal).equals(walBytes)).toBe(true);
      expect(existsSync(s.dbs.users)).toBe(false);
    }
  });

  it('--files of a set that holds none: alone, exit 8 and nothing made; with a database, restored and said', async () => {
    const s = demoSetup();
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--no-files', '--db', 'users', '--json'])).stdout);
    const to = join(s.dir, 'nof');
    const alone = await cli(s, ['restore', m.id, '--files', '--to', to, '--yes', '--json'], 8);
    expect(parseJsonOutput<{ error: string; message: string }>(alone.stdout)).toMatchObject({
      error: 'notFound',
      message: `Set ${m.id} holds no files; nothing was restored.`,
    });
    expect(existsSync(to)).toBe(false);
    const both = await cli(s, ['restore', m.id, '--db', 'users', '--files', '--to', to, '--yes']);
    expect(both.stdout).toContain(`Set ${m.id} holds no files.`);
    expect(existsSync(join(to, 'users.db'))).toBe(true);
    expect(existsSync(join(to, 'files'))).toBe(false);
  });

  it('with one database there and one created: the rollback command names only the one that was replaced, and works', async () => {
    const s = demoSetup();
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--no-files', '--json'])).stdout);
    for (const x of ['', '-wal', '-shm']) rmSync(s.dbs.inventario + x, { force: true });
    const r = await cli(s, ['restore', m.id, '--db', 'users', '--db', 'inventario', '--yes']);
    // It names the config the restore was given (--config, by cli()), which cli() gives again.
    const command = new RegExp(
      `To roll back: (respaldo restore \\S+ --db users --yes) --config ${s.configFile}\n`,
    ).exec(r.stdout);
    expect(command, r.stdout).not.toBeNull();
    expect(r.stdout).not.toMatch(/To roll back: .*--db inventario/);
    await cli(s, command![1]!.split(' ').slice(1));
  });

  it('of a database that does not exist now, on the menu: created, not replaced, with the same rollback', async () => {
    const s = demoSetup();
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'inventario', '--json'])).stdout);
    for (const x of ['', '-wal', '-shm']) rmSync(s.dbs.inventario + x, { force: true });
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const plan = await planRestore(cfg, m.id, { databases: ['inventario'] });
    for (const lang of ['en', 'es'] as const) {
      const rows = planRows(plan, { t: catalogue(lang, true), lang, theme: createTheme({ LANG: 'en_US.UTF-8' }) }, 200);
      const text = rows.map((r) => r.map((seg) => seg.text).join('')).join('\n');
      expect(text).toContain(`${lang === 'en' ? 'Will create' : 'Creará'} inventario → ${s.dbs.inventario}`);
      expect(text).toContain(`inventario: ${lang === 'en' ? 'delete' : 'borrar'} ${s.dbs.inventario}`);
      expect(text).not.toMatch(/pre_restore|Will replace|Sustituirá/);
    }
  });
});

describe('usage errors exit 2', () => {
  it('--table on a SQLite database is refused naming the flag, restoring nothing', async () => {
    const s = demoSetup();
    const a = parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--json'])).stdout);
    const to = join(s.dir, 'copy.db');
    const r = await cli(s, ['restore', a.id, '--db', 'users', '--to', to, '--table', 'Artist', '--yes'], 2);
    expect(r.stderr).toContain('--table');
    expect(existsSync(to)).toBe(false);
  });

  it.each([
    [['frobnicate']],
    [['create', '--frobnicate']],
    [['create', '--type', 'log']],
    [['restore']],
    [['list', '--db']],
  ])('respaldo %j', async (args) => {
    const s = demoSetup();
    const r = await runCli(args, { cwd: s.dir });
    expect(r.code, describeResult(r)).toBe(2);
    expect(r.stderr.length).toBeGreaterThan(0);
    expect(existsSync(s.backupDir)).toBe(false);
  });

  it('an unknown database name is not found (exit 8), naming the choices', async () => {
    const s = demoSetup();
    const r = await cli(s, ['create', '--db', 'nope'], 8);
    expect(r.stderr).toContain('"nope"');
    expect(r.stderr).toContain('users, inventario, auditoria');
    expect(existsSync(s.backupDir) ? readdirSync(s.backupDir).filter(isSetId) : []).toEqual([]);
  });

  it('no command without a terminal: a clear message naming the subcommands, exit 2', async () => {
    const s = demoSetup();
    const r = await runCli([], { cwd: s.dir });
    expect(r.code, describeResult(r)).toBe(2);
    expect(r.stderr).toContain('needs a terminal');
    expect(r.stderr).toContain('respaldo create');
  });

  it('--help and --version exit 0; help lists the exit codes', async () => {
    const h = await runCli(['--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('Exit codes:');
    expect(h.stdout).toMatch(/\b6\s+another respaldo process holds/);
    // every code of the README's table, 129 (the terminal closed) included
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const table = readme.slice(readme.indexOf('### Exit codes'), readme.indexOf('## How a backup set is written'));
    const codes = [...table.matchAll(/^\| (\d+) \|/gm)].map((x) => x[1]!);
    expect(codes).toContain('129');
    for (const code of codes) expect(h.stdout).toMatch(new RegExp(`^ +${code}  \\S`, 'm'));
    const version = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
    for (const flag of ['--version', '-V']) {
      const v = await runCli([flag]);
      expect(v.code).toBe(0);
      expect(v.stdout.trim()).toBe(version);
    }
  });
});

describe('set ids', () => {
  it('newSetId: YYYYMMDD_HHMMSS, then _2, _3 within the same second', () => {
    const now = new Date(2026, 0, 2, 3, 4, 5);
    expect(baseSetId(now)).toBe('20260102_030405');
    expect(newSetId(now, new Set())).toBe('20260102_030405');
    expect(newSetId(now, new Set(['20260102_030405']))).toBe('20260102_030405_2');
    expect(newSetId(now, new Set(['20260102_030405', '20260102_030405_2']))).toBe('20260102_030405_3');
    expect(newSetId(now, new Set(['20260102_030405_2']))).toBe('20260102_030405');
    for (const id of ['20260102_030405', '20260102_030405_2', '20260102_030405_12']) expect(isSetId(id)).toBe(true);
    for (const id of ['2026010_030405', '20260102-030405', 'logs', '.tmp-20260102_030405', '20260102_030405_'])
      expect(isSetId(id)).toBe(false);
  });

  it('two creates in the same second get different ids, and both are listed', async () => {
    const s = demoSetup();
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date(2026, 5, 15, 12, 0, 0));
    const rep = new FakeReporter();
    const a = await createBackup(cfg, { databases: ['users'], files: false }, rep);
    const b = await createBackup(cfg, { databases: ['users'], files: false }, rep);
    const c = await createBackup(cfg, { databases: ['users'], files: false }, rep);
    vi.useRealTimers();
    expect([a.id, b.id, c.id]).toEqual(['20260615_120000', '20260615_120000_2', '20260615_120000_3']);
    expect(rep.failures).toEqual([]);
    expect(rep.ofType('run-end').map((e) => e.setId)).toEqual([a.id, b.id, c.id]);
    const listed = await listSets(cfg);
    expect(listed.map((x) => x.id).sort()).toEqual([a.id, b.id, c.id].sort());
    for (const m of [a, b, c]) expect(existsSync(join(s.backupDir, m.id, m.databases[0]!.file!))).toBe(true);
  });
});

describe('secrets', () => {
  it('a ${DB_PASSWORD} from .env never appears in output, logs or manifests', async () => {
    const SECRET = 'Zx9-very-Secret-Pa55word';
    const s = demoSetup((c) => ({
      ...c,
      databases: [
        ...(c.databases as object[]),
        { name: 'erp', url: 'postgresql://erp_app:${DB_PASSWORD}@127.0.0.1:1/erp' },
      ],
    }));
    writeFileSync(join(s.dir, '.env'), `DB_PASSWORD=${SECRET}\n`);
    const outputs: string[] = [];
    const run = async (args: string[], code?: number) => {
      const r = await runCli([...args, '--config', s.configFile], { cwd: s.dir, timeoutMs: 90_000 });
      outputs.push(r.stdout, r.stderr);
      if (code !== undefined) expect(r.code, describeResult(r)).toBe(code);
      return r;
    };
    const created = await run(['create', '--json'], 4); // erp cannot be reached: the set is partial
    const m = parseJsonOutput<Manifest>(created.stdout);
    expect(m.databases.find((d) => d.name === 'erp')!.error).not.toBeNull();
    await run(['create'], 4);
    await run(['show', m.id], 0);
    await run(['list'], 0);
    await run(['status', '--json'], 0);
    await run(['restore', m.id, '--db', 'erp', '--to', 'erp_copy', '--yes'], 9); // refused: erp failed in that set
    await run(['create', '--dry-run', '--json'], 0);

    for (const o of outputs) expect(o).not.toContain(SECRET);
    const leaks: string[] = [];
    const scan = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) scan(p);
        else if (e.isFile()) {
          const text = readStored(p).toString('latin1');
          if (text.includes(SECRET)) leaks.push(p);
        }
      }
    };
    scan(s.backupDir);
    expect(leaks).toEqual([]);
    expect(readdirSync(join(s.backupDir, 'logs')).length).toBeGreaterThan(0);
  });
});
