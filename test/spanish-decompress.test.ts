/**
 * A stored file whose hashes match (rewritten with it) but whose data does not decompress, said whole in Spanish in
 * the menu: as `verify --read-data` names it (the file's problem, the bar's error and its hint), as a restore of a
 * database refuses it, as a files restore of an encrypted set refuses it (decrypted and authenticated, then not
 * decompressed), and as a drill of the files fails on it. Each made for real: a set created, its stored bytes
 * replaced and its manifest's hashes rewritten. The English (CLI, logs) stays word for word what it was.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { RespaldoError } from '../src/core/errors.js';
import type { ProgressEvent as RunEvent, Reporter } from '../src/core/events.js';
import type { Manifest } from '../src/core/types.js';
import { silentReporter } from '../src/core/events.js';
import { createBackup } from '../src/engine/create.js';
import { runDrill } from '../src/engine/drill.js';
import { executeRestore, planRestore } from '../src/engine/restore.js';
import { verifySet } from '../src/engine/verify.js';
import { say, sayInMenu, sayMessage, sayVerifyProblem } from '../src/ui/i18n/index.js';
import { encryptConfig } from './helpers/age.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

const ZSTD_NOT_A_FRAME = 'The zstd data is damaged: no zstd frame starts at byte 0 of the file.';
const ZSTD_NOT_A_FRAME_ES = 'los datos zstd están dañados: no empieza ninguna trama zstd en el byte 0 del archivo.';

/** Puts `bytes` in place of stored file `file` of set `id`, its manifest's hashes (and `plain`) rewritten to them. */
function replaceStored(s: DemoSetup, id: string, file: string, bytes: Buffer, plain?: Buffer): void {
  writeFileSync(join(s.backupDir, id, file), bytes);
  const path = join(s.backupDir, id, 'manifest.json');
  const m = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  const hashes = (b: Buffer) => ({
    md5: createHash('md5').update(b).digest('hex'),
    sha256: createHash('sha256').update(b).digest('hex'),
  });
  const d = m.databases.find((x) => x.file === file);
  const entry: object = d ?? m.files.find((f) => f.stored === file)!;
  Object.assign(entry, hashes(bytes), d ? { storedBytes: bytes.length } : {});
  if (plain) Object.assign(entry, { plain: { bytes: plain.length, ...hashes(plain) } });
  writeFileSync(path, JSON.stringify(m, null, 2));
}

async function failure(p: Promise<unknown>): Promise<RespaldoError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RespaldoError);
  return err as RespaldoError;
}

describe('does not decompress, said in Spanish', () => {
  it('verify --read-data: the file, the bar and the hint', async () => {
    const s = demoSetup({ compression: { codec: 'zstd' } });
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const m = await createBackup(cfg, { type: 'full', databases: ['users'], files: false }, silentReporter);
    const users = m.databases[0]!.file!;
    replaceStored(s, m.id, users, Buffer.from('not a zstd frame'));
    const events: RunEvent[] = [];
    const reporter: Reporter = { emit: (e) => void events.push(e) };
    const r = await verifySet(cfg, m.id, reporter, { readData: true });
    const bad = r.files.find((f) => f.path === users)!;
    expect(bad.problem).toBe(`does not decompress (${ZSTD_NOT_A_FRAME}): the data it holds is damaged`);
    expect(sayVerifyProblem('es', bad.problem!)).toBe(
      `no se descomprime (${ZSTD_NOT_A_FRAME_ES}): los datos que guarda están dañados`,
    );
    const end = events.find((e) => e.type === 'item-end' && !e.ok) as Extract<RunEvent, { type: 'item-end' }>;
    expect(say('es', end.errorPhrase, end.error!)).toBe(
      `${users}: no se descomprime (${ZSTD_NOT_A_FRAME_ES}): los datos que guarda están dañados`,
    );
    expect(end.hint).toMatch(/^Do not restore from this set: a stored file whose hashes match does not decompress/);
    expect(say('es', end.hintPhrase, end.hint!)).toMatch(
      /^No restaure desde esta copia: un archivo guardado cuyos hashes coinciden no se descomprime .*`respaldo verify ID --from NOMBRE --read-data`\)\.$/,
    );
  });

  it('a restore of a database: its stored file cannot be decompressed, and the hint', async () => {
    const s = demoSetup({ compression: { codec: 'zstd' } });
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const m = await createBackup(cfg, { type: 'full', databases: ['users'], files: false }, silentReporter);
    const users = m.databases[0]!.file!;
    replaceStored(s, m.id, users, Buffer.from('not a zstd frame'));
    // As the menu plans it (engine-facade.ts): each stored file checked as it is read
    const plan = await planRestore(cfg, m.id, {
      databases: ['users'],
      to: join(s.dir, 'users-copy.db'),
      checkAsRead: true,
    });
    const failed = (await executeRestore(cfg, plan, silentReporter)).databases.find((d) => !d.ok)!;
    expect(failed.errorKind).toBe('verifyFailed');
    expect(failed.error).toBe(
      `The stored file ${users} of users cannot be decompressed (${ZSTD_NOT_A_FRAME}): it is damaged.`,
    );
    expect(sayMessage('es', failed.phrases, failed.error!)).toBe(
      `El archivo guardado ${users} de users no se puede descomprimir (${ZSTD_NOT_A_FRAME_ES}): está dañado.`,
    );
    expect(sayInMenu('es', failed.phrases?.hint, failed.hint ?? '')).toMatch(
      /^No restaure desde esta copia\. Use otra copia/,
    );
  });

  it('a files restore of an encrypted set: decrypted and authenticated, then not decompressed', async () => {
    const s = demoSetup({ compression: { codec: 'zstd' } });
    const { recipient } = encryptConfig(s.configFile, s.dir);
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const m = await createBackup(cfg, { type: 'full', databases: [], files: true }, silentReporter);
    const stored = m.files.find((f) => f.stored && f.size > 0)!.stored!;
    const junk = Buffer.from('not a zstd frame');
    replaceStored(s, m.id, stored, execFileSync('age', ['-r', recipient], { input: junk }), junk);
    const plan = await planRestore(cfg, m.id, {
      databases: [],
      files: true,
      to: join(s.dir, 'restored'),
      checkAsRead: true,
    });
    const err = await failure(executeRestore(cfg, plan, silentReporter));
    expect(err.exitCode).toBe(5);
    expect(err.message).toBe(
      `${stored} of set ${m.id} decrypted and authenticated, but its decrypted data does not decompress ` +
        `(${ZSTD_NOT_A_FRAME}): the data it holds is damaged (encrypted again after the backup, or rewritten).`,
    );
    expect(sayMessage('es', err.phrases, err.message)).toBe(
      `${stored} de la copia ${m.id} se descifró y autenticó, pero sus datos descifrados no se descomprimen ` +
        `(${ZSTD_NOT_A_FRAME_ES}): los datos que guarda están dañados (cifrados de nuevo después de la copia, o ` +
        'reescritos).',
    );
    expect(sayInMenu('es', err.phrases?.hint, err.hint ?? '')).toMatch(/^No restaure desde esta copia: /);
  });

  it('a drill of the files: a stored file does not decompress', async () => {
    const s = demoSetup({ compression: { codec: 'zstd' } });
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const m = await createBackup(cfg, { type: 'full', databases: ['users'], files: true }, silentReporter);
    const stored = m.files.find((f) => f.stored && f.size > 0)!.stored!;
    replaceStored(s, m.id, stored, Buffer.from('not a zstd frame'));
    const outcome = await runDrill(cfg, m.id, { files: true, filesOnly: true }, silentReporter);
    const failed = outcome.results.find((r) => !r.ok)!;
    expect(failed.error).toBe(
      `Set ${m.id}: a stored file does not decompress (${ZSTD_NOT_A_FRAME}): the data it holds is damaged.`,
    );
    expect(sayMessage('es', failed.phrases, failed.error!)).toBe(
      `Copia ${m.id}: un archivo guardado no se descomprime (${ZSTD_NOT_A_FRAME_ES}): los datos que guarda están ` +
        'dañados.',
    );
    expect(sayInMenu('es', failed.phrases?.hint, failed.hint ?? '')).toBe(
      'No restaure archivos de esta copia; use otra copia.',
    );
  });
});
