import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EXIT } from '../src/core/exit-codes.js';
import { pgAvailable, plainDump as plainDumpOf, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';

/**
 * End to end through the built CLI (`node bin/respaldo.js`, which needs `dist/`: `npm test`
 * builds it first) against a real throwaway PostgreSQL cluster.
 */

const available = pgAvailable();
const ROOT = resolve(__dirname, '..');
/** The CLI under test: bin/respaldo.js (→ dist/), or another build named by RESPALDO_CLI. */
const BIN = process.env['RESPALDO_CLI'] ?? join(ROOT, 'bin/respaldo.js');
const PASSWORD = `cli'pw:@/${Math.random().toString(36).slice(2, 10)}`;

let cluster: PgCluster;
let work: string;
let configFile: string;
let backupDir: string;

/** JSON outputs of several shapes, read field by field in the assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
type Json = any;

function cli(
  args: string[],
  env: Record<string, string> = {},
): { code: number; stdout: string; stderr: string; json: Json } {
  const r = spawnSync(process.execPath, [BIN, ...args, '--config', configFile], {
    encoding: 'utf8',
    env: { ...process.env, DB_PASSWORD: PASSWORD, CI: 'true', NO_COLOR: '1', ...env },
    cwd: work,
    maxBuffer: 64 << 20,
    timeout: 120_000,
  });
  let json: unknown = null;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = null;
  }
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, json };
}

const plainDump = (database: string): string => plainDumpOf(cluster, database);

function allText(dir: string): string {
  let out = '';
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const p = join(dir, name);
    if (statSync(p).isFile() && !/\.(gz|zst)$/.test(p)) out += readFileSync(p, 'utf8');
  }
  return out;
}

describe.skipIf(!available)('postgres end to end through the CLI', () => {
  beforeAll(async () => {
    const dist = join(BIN, '../../dist');
    if (!existsSync(join(dist, 'cli/main.js')) || !existsSync(join(dist, 'drivers/postgres/index.js'))) {
      throw new Error('dist/ is missing or has no postgres driver: run `npm run build` first (npm test does).');
    }
    work = mkdtempSync(join(tmpdir(), 'respaldo-pgcli-'));
    cluster = await startPgCluster({ password: PASSWORD });
    cluster.createDatabase('inventario');
    const sql = readFileSync(join(ROOT, 'test/fixtures/chinook/Chinook_PostgreSql.sql'), 'utf8')
      .replace(/^DROP DATABASE IF EXISTS chinook;$/m, '')
      .replace(/^CREATE DATABASE chinook;$/m, '')
      .replace(/^\\c chinook;$/m, '');
    writeFileSync(join(work, 'chinook.sql'), sql);
    cluster.psqlFile(join(work, 'chinook.sql'), 'inventario');
    backupDir = join(work, 'backups');
    writeFileSync(join(work, 'app.env'), 'APP_MODE=production\n');
    configFile = join(work, 'backup_config.json');
    writeFileSync(
      configFile,
      JSON.stringify(
        {
          backupDir: './backups',
          databases: [
            {
              name: 'inventario',
              url: `postgresql://${cluster.user}:\${DB_PASSWORD}@${cluster.host}:${cluster.port}/inventario`,
              globals: true,
            },
          ],
          files: { config: ['./app.env'], application: [] },
          compression: { level: 1 },
          retention: { keepLast: 3, daily: 7, weekly: 4, monthly: 6, yearly: 1 },
          schedule: { jobs: [] },
        },
        null,
        2,
      ),
    );
  });
  afterAll(async () => {
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('create, restore side by side, restore in place (sessions refused, then terminated), safety set listed and deleted', async () => {
    const created = cli(['create', '--json']);
    expect(created.stderr).not.toContain(PASSWORD);
    expect(created.code, created.stderr).toBe(EXIT.ok);
    const m = created.json;
    expect(m.status).toBe('completed');
    const entry = m.databases[0];
    expect(entry).toMatchObject({
      name: 'inventario',
      engine: 'postgres',
      format: 'pg-directory',
      compressed: true,
      error: null,
    });
    expect(entry.tables).toMatchObject({ 'public.album': 347, 'public.track': 3503 });
    expect(entry.details).toMatchObject({
      rowCounts: 'exact',
      pgDumpVersion: expect.any(String),
      serverVersion: expect.any(String),
    });
    expect(entry.extras.filter((x: { role: string }) => !x.role.startsWith('pgdir:'))).toEqual([
      expect.objectContaining({ role: 'pgchain', file: expect.stringMatching(/\.pgchain\.json\.(zst|gz)$/) }),
      expect.objectContaining({ role: 'globals' }),
    ]);
    // One stored file per table's data, each hashed in the manifest, named after the set.
    const members = entry.extras.filter((x: { role: string }) => x.role.startsWith('pgdir:'));
    expect(members.length).toBeGreaterThanOrEqual(11);
    for (const x of members)
      expect(x).toMatchObject({
        file: expect.stringMatching(new RegExp(`^databases/inventario_${m.id}\\.\\d+\\.dat\\.(zst|gz)$`)),
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
    // `show` names the set's codec and sums the table files in one line (a database may have hundreds of tables).
    const shown = cli(['show', m.id]).stdout;
    expect(shown).toContain(`stored (${m.codec ?? 'gzip'})`);
    expect(shown).toContain(`${members.length} more files of the directory dump (one per table)`);
    expect(shown).not.toMatch(/pgdir:/);
    const setPath = join(backupDir, m.id);
    expect(statSync(join(setPath, entry.file)).mode & 0o777).toBe(0o600);
    expect(allText(backupDir)).not.toContain(PASSWORD);
    expect(allText(backupDir)).not.toContain(encodeURIComponent(PASSWORD));

    // Side by side.
    const side = cli(['restore', m.id, '--db', 'inventario', '--to', 'inventario_copy', '--yes', '--json']);
    expect(side.code, side.stderr + side.stdout).toBe(EXIT.ok);
    expect(side.json.databases[0]).toMatchObject({ ok: true, restoredTo: 'inventario_copy' });
    const original = plainDump('inventario');
    expect(plainDump('inventario_copy')).toBe(original);

    // Selected tables, side by side.
    const some = cli([
      'restore',
      m.id,
      '--db',
      'inventario',
      '--to',
      'inventario_albums',
      '--table',
      'public.album',
      '--table',
      'public.artist',
      '--yes',
      '--json',
    ]);
    expect(some.code, some.stderr + some.stdout).toBe(EXIT.ok);
    expect(
      cluster.psql(
        `SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'`,
        'inventario_albums',
      ),
    ).toBe('album,artist');
    expect(cluster.psql('SELECT count(*) FROM album', 'inventario_albums')).toBe('347');

    // The in-place plan names the staging and safety databases and changes nothing.
    const dry = cli(['restore', m.id, '--db', 'inventario', '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(EXIT.ok);
    expect(dry.json.databases[0]).toMatchObject({
      replaces: true,
      staging: `inventario__restore_${m.id}`,
      safety: { kind: 'renamed-database', name: `inventario__pre_restore_${m.id}` },
    });
    expect(cluster.databases().filter((n) => n.startsWith('inventario__'))).toEqual([]);

    // Change the live database, hold a session on it.
    cluster.psql(`DELETE FROM invoice_line WHERE invoice_id > 100; UPDATE artist SET name = 'cambiado'`, 'inventario');
    const changed = plainDump('inventario');
    const holder = await cluster.client('inventario');
    try {
      const refused = cli(['restore', m.id, '--db', 'inventario', '--yes', '--json']);
      expect(refused.code, refused.stderr + refused.stdout).toBe(EXIT.refused);
      expect(refused.stderr + refused.stdout).toMatch(/terminate-connections/);
      expect(plainDump('inventario')).toBe(changed);

      const inPlace = cli(['restore', m.id, '--db', 'inventario', '--terminate-connections', '--yes', '--json']);
      expect(inPlace.code, inPlace.stderr + inPlace.stdout).toBe(EXIT.ok);
      expect(inPlace.json.databases[0]).toMatchObject({
        ok: true,
        restoredTo: 'inventario',
        safetyDatabase: `inventario__pre_restore_${m.id}`,
      });
      expect(inPlace.json.safetySetIds).toHaveLength(1);
    } finally {
      await holder.end().catch(() => undefined);
    }
    expect(plainDump('inventario')).toBe(original);
    expect(plainDump(`inventario__pre_restore_${m.id}`)).toBe(changed);
    expect(cluster.databases().filter((n) => n.includes('__restore_'))).toEqual([]);

    const list = cli(['list', '--json']);
    expect(list.code).toBe(EXIT.ok);
    const safety = (list.json as { id: string; type: string }[]).find((s) => s.type === 'pre_restore');
    expect(safety).toBeDefined();
    const status = cli(['status', '--json']);
    expect(status.json.safetySets).toContain(safety!.id);
    // nothing of it is a file to drill: the refusal says what the set keeps and where (the menu's `t` shows it)
    const drill = cli(['drill', safety!.id]);
    expect(drill.code).toBe(EXIT.usage);
    expect(drill.stderr).toContain(
      `Set ${safety!.id} stores no database file to drill: it keeps "inventario__pre_restore_${m.id}" on its server`,
    );
    expect(drill.stderr).toContain('hint: Choose another set');

    const del = cli(['delete', safety!.id, '--yes', '--json']);
    expect(del.code, del.stderr).toBe(EXIT.ok);
    expect(cluster.databases()).not.toContain(`inventario__pre_restore_${m.id}`);
    expect(cluster.databases()).toContain('inventario');
  });

  test('the same set restored in place twice: the second keeps what it replaces beside the first safety copy, and its rollback swaps that back', async () => {
    const created = cli(['create', '--json']);
    expect(created.code, created.stderr).toBe(EXIT.ok);
    const id: string = created.json.id;
    const original = plainDump('inventario');
    cluster.psql(`UPDATE artist SET name = 'primero' WHERE artist_id < 10`, 'inventario');
    const first = plainDump('inventario');
    const once = cli(['restore', id, '--db', 'inventario', '--yes', '--json']);
    expect(once.code, once.stderr + once.stdout).toBe(EXIT.ok);
    expect(once.json.databases[0]).toMatchObject({ safetyDatabase: `inventario__pre_restore_${id}` });

    // The application wrote into the restored database; the operator restores the same set again.
    cluster.psql(`UPDATE artist SET name = 'segundo' WHERE artist_id < 10`, 'inventario');
    const second = plainDump('inventario');
    const plan = cli(['restore', id, '--db', 'inventario', '--dry-run']);
    expect(plan.code, plan.stderr + plan.stdout).toBe(EXIT.ok);
    // The plan names the copy the run will keep, and its by-hand rollback renames that one back.
    expect(plan.stdout).toContain(`the live database is kept as inventario__pre_restore_${id}__2`);
    expect(plan.stdout).toContain(`ALTER DATABASE "inventario__pre_restore_${id}__2" RENAME TO "inventario"`);
    expect(plan.stdout).not.toMatch(new RegExp(`kept as inventario__pre_restore_${id}\\b(?!__)`));
    // ... and the copy the first restore keeps on the server, with the command that drops it (a bad day's third
    // restore needs room for a third whole database).
    const earlier = (cli(['list', '--json']).json as { id: string; type: string; databases: string[] }[])
      .filter((x) => x.type === 'pre_restore' && x.databases.includes('inventario'))
      .map((x) => x.id)
      .reverse(); // oldest first, as the plan names them
    const said = plan.stdout.replace(/\s+/g, ' ');
    expect(said).toMatch(
      new RegExp(
        `inventario: ${earlier.length} safety cop(y|ies) of earlier restores stays? on its server \\([^)]*` +
          `inventario__pre_restore_${id}\\b(?!__)[^)]*\\), each a whole database; this restore keeps one more\\.`,
      ),
    );
    expect(said).toContain(
      `no longer need ${earlier.length === 1 ? 'it' : 'them'}: ${earlier.map((x) => `respaldo delete ${x}`).join(' && ')}`,
    );
    const again = cli(['restore', id, '--db', 'inventario', '--yes', '--json']);
    expect(again.code, again.stderr + again.stdout).toBe(EXIT.ok);
    expect(again.json.databases[0]).toMatchObject({ ok: true, safetyDatabase: `inventario__pre_restore_${id}__2` });
    const notes = again.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Json);
    expect(notes.find((n) => n.phrase?.id === 'note.safetyRound')?.message).toBe(
      `an earlier restore of this set still keeps its safety copy "inventario__pre_restore_${id}"; ` +
        `this one keeps the database it replaces as "inventario__pre_restore_${id}__2", beside it`,
    );
    expect(plainDump('inventario')).toBe(original);
    expect(plainDump(`inventario__pre_restore_${id}`)).toBe(first);
    expect(plainDump(`inventario__pre_restore_${id}__2`)).toBe(second);

    // The rollback the outcome names puts back the database as it was just before this second restore.
    const rollback = cli(['restore', again.json.safetySetIds[0], '--db', 'inventario', '--yes', '--json']);
    expect(rollback.code, rollback.stderr + rollback.stdout).toBe(EXIT.ok);
    expect(plainDump('inventario')).toBe(second);
    expect(plainDump(`inventario__pre_restore_${id}`)).toBe(first);

    // Both safety sets deleted: their databases dropped, the live one kept.
    const kept = (cli(['list', '--json']).json as { id: string; type: string }[]).filter(
      (x) => x.type === 'pre_restore',
    );
    for (const x of kept) expect(cli(['delete', x.id, '--yes', '--json']).code).toBe(EXIT.ok);
    expect(cluster.databases().filter((n) => n.startsWith('inventario__'))).toEqual([]);
    expect(plainDump('inventario')).toBe(second);
  });

  test('a safety copy an earlier restore kept that the server no longer has (a rebuilt server): the plan does not say it stays there', () => {
    const created = cli(['create', '--json']);
    expect(created.code, created.stderr).toBe(EXIT.ok);
    const id: string = created.json.id;
    const once = cli(['restore', id, '--db', 'inventario', '--yes', '--json']);
    expect(once.code, once.stderr + once.stdout).toBe(EXIT.ok);
    const safety = `inventario__pre_restore_${id}`;
    expect(cli(['restore', id, '--db', 'inventario', '--dry-run']).stdout.replace(/\s+/g, ' ')).toContain(
      `1 safety copy of earlier restores stays on its server (${safety})`,
    );
    // The server is rebuilt (or a DBA drops the copy): its pre_restore set is still listed in the backup folder.
    cluster.psql(`DROP DATABASE "${safety}"`);
    const plan = cli(['restore', id, '--db', 'inventario', '--dry-run']);
    expect(plan.code, plan.stderr + plan.stdout).toBe(EXIT.ok);
    expect(plan.stdout).not.toMatch(/of earlier restores stays? on its server/);
    expect(plan.stdout).not.toContain(`respaldo delete ${once.json.safetySetIds[0]}`);
    expect(plan.stdout).toContain(`the live database is kept as ${safety}`);
    for (const x of (cli(['list', '--json']).json as { id: string; type: string }[]).filter(
      (x) => x.type === 'pre_restore',
    ))
      expect(cli(['delete', x.id, '--yes', '--json']).code).toBe(EXIT.ok);
  });

  test('a data file changed in the set: the restore checks it as pg_restore reads it and stops before the swap (exit 5), the live database as it was', async () => {
    const created = cli(['create', '--json']);
    expect(created.code, created.stderr).toBe(EXIT.ok);
    const m = created.json;
    const members = (m.databases[0].extras as { role: string; file: string; storedBytes: number }[])
      .filter((x) => x.role.startsWith('pgdir:'))
      .sort((a, b) => b.storedBytes - a.storedBytes);
    const stored = join(backupDir, m.id, members[0]!.file);
    const bytes = readFileSync(stored);
    bytes[bytes.length >> 1]! ^= 0xff;
    writeFileSync(stored, bytes);
    const live = plainDump('inventario');
    const r = cli(['restore', m.id, '--db', 'inventario', '--yes']);
    expect(r.code, r.stderr + r.stdout).toBe(EXIT.verifyFailed);
    expect(r.stdout + r.stderr).toMatch(/does not match its manifest|damaged|(md5|sha256) mismatch/);
    expect(plainDump('inventario')).toBe(live);
    expect(cluster.databases().filter((n) => n.startsWith('inventario__'))).toEqual([]);
  });

  test('server stopped: the set is partial with a clear reason, and restores refuse to start', async () => {
    const sets = cli(['list', '--json']).json as { id: string; type: string }[];
    const full = sets.find((x) => x.type === 'full')!;
    cluster.pause();
    try {
      const r = cli(['create', '--json']);
      expect(r.code).toBe(EXIT.partial);
      expect(r.json.databases[0].error.message).toMatch(/refused the connection/);
      expect(r.json.databases[0].error.hint).toMatch(/running/);
      const rr = cli(['restore', full.id, '--db', 'inventario', '--to', 'never_made', '--yes', '--json']);
      expect(rr.code).toBe(EXIT.failed);
      expect(rr.stdout + rr.stderr).toMatch(/refused the connection/);
    } finally {
      cluster.start();
    }
    expect(cluster.databases()).not.toContain('never_made');
  });

  test('wrong password: the set is partial with a clear reason and exit code, nothing else touched, no secret anywhere', async () => {
    const before = plainDump('inventario');
    const r = cli(['create', '--json'], { DB_PASSWORD: 'definitely-wrong' });
    expect(r.code).toBe(EXIT.partial);
    expect(r.json.status).not.toBe('completed');
    expect(r.json.databases[0].error.message).toMatch(/refused the password of user .*password authentication failed/);
    // the variable the url takes the password from, by name
    expect(r.json.databases[0].error.hint).toMatch(/check DB_PASSWORD in the environment or \.env/);
    expect(r.stdout + r.stderr).not.toContain('definitely-wrong');
    expect(allText(backupDir)).not.toContain('definitely-wrong');
    expect(plainDump('inventario')).toBe(before);
  });
  test('--table and --create-roles through the CLI: the plan says what happens; a set without stored roles refuses --create-roles before changing anything', async () => {
    const made = cli(['create', '--json']);
    expect(made.code, made.stderr).toBe(EXIT.ok);
    const dry = cli([
      'restore',
      made.json.id,
      '--db',
      'inventario',
      '--to',
      'inv_tables',
      '--table',
      'public.track',
      '--create-roles',
      '--dry-run',
    ]);
    expect(dry.code, dry.stderr).toBe(EXIT.ok);
    expect(dry.stdout).toContain('create the roles stored with the set that this server lacks');
    expect(dry.stdout).toContain('pg_restore only public.track into');
    expect(dry.stdout).toContain('with their keys, indexes, triggers, sequences and the types and functions they use');
    expect(cluster.databases()).not.toContain('inv_tables');

    // A table the backup does not hold: not found before anything runs, naming the tables it does hold.
    const nosuch = cli([
      'restore',
      made.json.id,
      '--db',
      'inventario',
      '--to',
      'inv_nosuch',
      '--table',
      'public.nosuch',
      '--yes',
    ]);
    expect(nosuch.code, nosuch.stderr + nosuch.stdout).toBe(EXIT.notFound);
    expect(nosuch.stderr).toContain('Database inventario: table "public.nosuch" is not in this backup.');
    expect(nosuch.stderr).toMatch(/hint: Tables in this backup: .*public\.track/);
    expect(nosuch.stdout).not.toMatch(/Restore plan|FAILED/);
    expect(cluster.databases().filter((d) => d.includes('__restore_') || d === 'inv_nosuch')).toEqual([]);

    const r = cli([
      'restore',
      made.json.id,
      '--db',
      'inventario',
      '--to',
      'inv_tables',
      '--table',
      'public.track',
      '--create-roles',
      '--yes',
      '--json',
    ]);
    expect(r.code, r.stderr + r.stdout).toBe(EXIT.ok);
    expect(r.json.databases[0]).toMatchObject({ ok: true, restoredTo: 'inv_tables' });
    expect(r.stderr).toMatch(/not restored: FK CONSTRAINT public track track_album_id_fkey/);
    expect(
      cluster.psql(
        `SELECT count(*) || ':' || (SELECT string_agg(conname, ',') FROM pg_constraint WHERE conrelid = 'track'::regclass) FROM track`,
        'inv_tables',
      ),
    ).toBe('3503:track_pkey');

    // A config without globals makes sets that stored no roles.
    const bare = join(work, 'bare_config.json');
    const doc = JSON.parse(readFileSync(configFile, 'utf8'));
    doc.backupDir = './backups-bare';
    doc.databases[0].globals = false;
    writeFileSync(bare, JSON.stringify(doc));
    const b = spawnSync(process.execPath, [BIN, 'create', '--json', '--config', bare], {
      encoding: 'utf8',
      env: { ...process.env, DB_PASSWORD: PASSWORD, CI: 'true' },
      cwd: work,
    });
    expect(b.status, b.stderr).toBe(EXIT.ok);
    const refused = spawnSync(
      process.execPath,
      [
        BIN,
        'restore',
        'latest',
        '--db',
        'inventario',
        '--to',
        'inv_roles',
        '--create-roles',
        '--yes',
        '--config',
        bare,
      ],
      { encoding: 'utf8', env: { ...process.env, DB_PASSWORD: PASSWORD, CI: 'true', NO_COLOR: '1' }, cwd: work },
    );
    expect(refused.status).toBe(EXIT.usage);
    expect(refused.stderr).toMatch(/stored no roles for inventario/);
    expect(refused.stderr).toMatch(/hint: /);
    expect(cluster.databases().filter((n) => n.startsWith('inv_roles') || n.includes('__restore_'))).toEqual([]);
  });
});
