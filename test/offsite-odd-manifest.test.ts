import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { parseJsonOutput } from './helpers/cli.js';
import { cli } from './helpers/offsite.js';
import { sftpDestination, startSshd, stopAllSshd } from './helpers/sshd.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

/**
 * Odd things found at a destination or in a manifest: a `manifest.json` that is a folder (a damaged set there,
 * listed, kept by prune and removable by `delete --from`), a dry run from a destination that must not touch the
 * backup folder, and a manifest holding bytes that are not UTF-8 (damage, not text to guess at).
 */

afterEach(async () => {
  await stopAllSshd();
});

function withDestination(s: DemoSetup, dest: Record<string, unknown>): void {
  const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
  writeFileSync(s.configFile, JSON.stringify({ ...doc, destinations: [dest] }));
}

const create = async (s: DemoSetup) =>
  parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--no-files', '--json'])).stdout).id;

/** The set `id` at `there` (its source's folder) with a folder, holding a file, where its manifest was. */
function manifestAsFolder(there: string, id: string): void {
  rmSync(join(there, id, 'manifest.json'));
  mkdirSync(join(there, id, 'manifest.json'));
  writeFileSync(join(there, id, 'manifest.json', 'note.txt'), 'put here by hand\n');
  writeFileSync(join(there, 'operator-notes.txt'), 'beside the sets\n');
}

async function checkManifestFolder(s: DemoSetup, name: string, there: string, id: string): Promise<void> {
  const l = await cli(s, ['list', '--from', name], 5);
  expect(l.stdout).toContain(`DAMAGED set srv1/${id} at ${name}`);
  expect(l.stdout).toContain('manifest.json is a folder, not a file');
  const p = await cli(s, ['prune', '--from', name, '--dry-run'], 5);
  expect(p.stdout + p.stderr).toContain(id);
  // Sent again, it is refused naming the folder there (not this server's file) and how to clear it.
  const c = await cli(s, ['copy', id, '--to', name], 12);
  expect(c.stdout + c.stderr).toContain(`writing srv1/${id}/manifest.json: a folder is there`);
  expect(c.stdout + c.stderr).toContain(`respaldo delete ${id} --from ${name}`);
  expect(readFileSync(join(there, id, 'manifest.json', 'note.txt'), 'utf8')).toBe('put here by hand\n');
  const d = await cli(s, ['delete', id, '--from', name, '--yes', '--json']);
  expect(d.stderr).toContain('its manifest fails its checks');
  // What it removes is said first: the note someone put in the folder at the manifest's name goes with it.
  expect(d.stderr).toContain('1 file(s) respaldo did not write (manifest.json/note.txt)');
  expect(parseJsonOutput<{ state: string }>(d.stdout)).toMatchObject({ deleted: id, state: 'damaged' });
  expect(existsSync(join(there, id))).toBe(false);
  expect(readFileSync(join(there, 'operator-notes.txt'), 'utf8')).toBe('beside the sets\n');
  await cli(s, ['list', '--from', name]);
}

describe('a set at a destination whose manifest.json is a folder', () => {
  it('folder: list --from names it DAMAGED (5), prune --from shows it, delete --from removes it and nothing beside it', async () => {
    const s = demoSetup();
    const nas = join(s.dir, 'nas');
    mkdirSync(nas);
    withDestination(s, { name: 'nas', type: 'folder', path: nas, source: 'srv1' });
    const id = await create(s);
    manifestAsFolder(join(nas, 'srv1'), id);
    await checkManifestFolder(s, 'nas', join(nas, 'srv1'), id);
  });

  it('sftp: the same', async () => {
    const srv = await startSshd();
    const s = demoSetup();
    withDestination(s, { ...sftpDestination(srv), source: 'srv1' });
    const id = await create(s);
    manifestAsFolder(join(srv.root, 'srv1'), id);
    await checkManifestFolder(s, 'ssh', join(srv.root, 'srv1'), id);
  });
});

describe('restore --dry-run --from NAME', () => {
  it('leaves the backup folder as it was: the same entries, the same mtime', async () => {
    const s = demoSetup();
    const nas = join(s.dir, 'nas');
    mkdirSync(nas);
    withDestination(s, { name: 'nas', type: 'folder', path: nas, source: 'srv1' });
    const id = await create(s);
    // A whole second back, so that any write now shows whatever the file system's time granularity.
    execFileSync('touch', ['-d', '2026-01-01 00:00:00', s.backupDir]);
    const before = { names: readdirSync(s.backupDir).sort(), mtime: statSync(s.backupDir).mtimeMs };
    const r = await cli(s, ['restore', id, '--from', 'nas', '--db', 'users', '--dry-run']);
    expect(r.stdout).toContain(id);
    expect({ names: readdirSync(s.backupDir).sort(), mtime: statSync(s.backupDir).mtimeMs }).toEqual(before);
  });
});

describe('a manifest holding a byte that is not UTF-8', () => {
  it('in its description is damage: verify and restore refuse it (5), list and list --from name it DAMAGED', async () => {
    const s = demoSetup();
    const nas = join(s.dir, 'nas');
    mkdirSync(nas);
    withDestination(s, { name: 'nas', type: 'folder', path: nas, source: 'srv1' });
    const id = await create(s);
    const file = join(s.backupDir, id, 'manifest.json');
    const text = readFileSync(file);
    const at = text.indexOf('"description"');
    expect(at).toBeGreaterThan(0);
    const m = JSON.parse(text.toString('utf8')) as Manifest;
    // A description that holds a Latin-1 "ñ" (0xf1), as an editor saving the file in Windows-1252 writes it.
    const doc = Buffer.from(JSON.stringify({ ...m, description: 'copia de la mañana' }, null, 2) + '\n', 'utf8');
    const bad = Buffer.from(doc.toString('utf8').replace('ñ', '\u0000'), 'utf8');
    bad[bad.indexOf(0)] = 0xf1;
    writeFileSync(file, bad);
    writeFileSync(join(nas, 'srv1', id, 'manifest.json'), bad);
    const v = await cli(s, ['verify', id], 5);
    expect(v.stdout + v.stderr).toContain('not valid UTF-8');
    const r = await cli(s, ['restore', id, '--db', 'users', '--dry-run'], 5);
    expect(r.stderr).toContain('not valid UTF-8');
    const l = await cli(s, ['list'], 5);
    expect(l.stdout + l.stderr).toMatch(new RegExp(`DAMAGED.*${id}.*not valid UTF-8`));
    const f = await cli(s, ['list', '--from', 'nas'], 5);
    expect(f.stdout).toMatch(new RegExp(`DAMAGED set srv1/${id} at nas: .*not valid UTF-8 at line \\d+`));
  });
});
