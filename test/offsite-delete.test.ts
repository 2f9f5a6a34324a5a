import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import type { RemoteSetSummary } from '../src/engine/remote.js';
import { keepForStrays } from '../src/engine/retention-keep.js';
import { parseJsonOutput } from './helpers/cli.js';
import { cli, tree } from './helpers/offsite.js';
import { startS3rver, stopAllS3rvers, s3Destination } from './helpers/s3rver.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

/**
 * `delete ID --from NAME`: one set's copy at a destination removed by hand, said and confirmed first; the local
 * set stays and `copy` does not send it back unasked. A damaged or unfinished set there (which prune never
 * removes) can be removed the same way; a set a delta there applies on cannot.
 */

afterEach(async () => {
  await stopAllS3rvers();
});

function withNas(s: DemoSetup): string {
  const root = join(s.dir, 'nas');
  mkdirSync(root);
  const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
  writeFileSync(
    s.configFile,
    JSON.stringify({ ...doc, destinations: [{ name: 'nas', type: 'folder', path: root, source: 'srv1' }] }),
  );
  return join(root, 'srv1');
}

const create = async (s: DemoSetup, type = 'full') =>
  parseJsonOutput<Manifest>((await cli(s, ['create', '--type', type, '--db', 'users', '--no-files', '--json'])).stdout)
    .id;

const remoteIds = async (s: DemoSetup, name: string) =>
  parseJsonOutput<RemoteSetSummary[]>((await cli(s, ['list', '--from', name, '--json'])).stdout)
    .map((x) => x.id)
    .sort();

describe('delete ID --from NAME', () => {
  it('a file put beside a set there is named quoted: a line break in its name prints no line of its own', async () => {
    const s = demoSetup();
    const there = withNas(s);
    const id = await create(s);
    const forged = `Set ${id} is also in this server's backup folder: safe to delete`;
    writeFileSync(join(there, id, `notas\n${forged}\u001b[2K`), 'why\n');
    const r = await cli(s, ['delete', id, '--from', 'nas', '--yes']);
    expect(r.stderr.split('\n').filter((l) => l.includes('safe to delete'))).toEqual([
      expect.stringContaining('respaldo did not write (notas\\x0aSet'),
    ]);
    expect(r.stderr).toContain('\\x1b[2K)');
    // prune --from keeps such a set and says why, the same way.
    const [kept] = keepForStrays([{ id, action: 'remove', reasons: [] }], [], new Map([[id, [`a\n${forged}`]]]), {
      destination: 'nas',
    });
    expect(kept!.reasons.join(' ')).toContain(`(a\\x0a${forged})`);
  });

  it('of a set with files, only a file someone put among them is named, not what the set stores', async () => {
    const s = demoSetup();
    const there = withNas(s);
    const id = parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--json'])).stdout).id;
    expect(existsSync(join(there, id, 'application', 'app', 'settings.json.zst'))).toBe(true);
    writeFileSync(join(there, id, 'application', 'notas.txt'), 'why\n');
    const r = await cli(s, ['delete', id, '--from', 'nas', '--yes']);
    expect(r.stderr.replace(/\s+/g, ' ')).toMatch(
      /also holds 1 file\(s\) respaldo did not write \(application\/notas\.txt\)/,
    );
    expect(existsSync(join(there, id))).toBe(false);
  });

  it('folder: said, confirmed with --yes, removed there only; copy does not send it back unasked, copy ID does', async () => {
    const s = demoSetup();
    const there = withNas(s);
    const older = await create(s);
    const newer = await create(s);
    writeFileSync(join(there, newer, 'notas.txt'), 'why\n');
    const local = tree(join(s.backupDir, newer), (n) => n === 'copies.json');

    // Without a terminal and without --yes: refused before anything goes, having said nothing is deleted.
    const refused = await cli(s, ['delete', newer, '--from', 'nas'], 9);
    expect(refused.stderr).toContain('needs confirmation and there is no terminal to ask');
    expect(existsSync(join(there, newer, 'manifest.json'))).toBe(true);

    const r = await cli(s, ['delete', newer, '--from', 'nas', '--yes']);
    const said = r.stderr.replace(/\s+/g, ' ');
    expect(said).toContain(`Set ${newer} is the newest backup of users at nas (the next newest there is ${older}).`);
    expect(said).toMatch(/also holds 1 file\(s\) respaldo did not write \(notas\.txt\)/);
    expect(r.stdout).toContain(`Deleted set ${newer} at destination "nas". The local set stays`);
    expect(existsSync(join(there, newer))).toBe(false);
    expect(await remoteIds(s, 'nas')).toEqual([older]);
    expect(tree(join(s.backupDir, newer), (n) => n === 'copies.json')).toEqual(local);

    // Not sent back by the next copy of every missing set; named, it is.
    expect(parseJsonOutput<unknown[]>((await cli(s, ['copy', '--json'])).stdout)).toEqual([]);
    expect(existsSync(join(there, newer))).toBe(false);
    await cli(s, ['copy', newer, '--to', 'nas']);
    expect(await remoteIds(s, 'nas')).toEqual([older, newer].sort());

    // The only one of users there, and not in this server's backup folder any more: both said.
    await cli(s, ['delete', newer, '--from', 'nas', '--yes']);
    await cli(s, ['delete', older, '--yes']);
    const last = (await cli(s, ['delete', older, '--from', 'nas', '--yes', '--json'])).stderr.replace(/\s+/g, ' ');
    expect(last).toContain(`Set ${older} is the only backup of users at nas: after it, users has none there.`);
    expect(last).toContain(`Set ${older} is not in this server's backup folder: the copy at nas may be the last one.`);
    expect(await remoteIds(s, 'nas')).toEqual([]);
  });

  it('a set an incremental there applies on is refused (9), nothing removed; unknown ids and names are their errors', async () => {
    const s = demoSetup();
    const there = withNas(s);
    const full = await create(s);
    const inc = await create(s, 'incremental');
    const before = tree(there);
    const r = await cli(s, ['delete', full, '--from', 'nas', '--yes'], 9);
    expect(r.stderr).toContain(inc);
    expect(tree(there)).toEqual(before);
    expect((await cli(s, ['delete', '20200101_000000', '--from', 'nas', '--yes'], 8)).stderr).toContain(
      'Set 20200101_000000 is not at destination "nas"',
    );
    expect((await cli(s, ['delete', 'latest', '--from', 'nas', '--yes'], 2)).stderr).toContain(
      'respaldo list --from nas',
    );
    expect((await cli(s, ['delete', full, '--from', 'nowhere', '--yes'], 8)).stderr).toContain('nowhere');
    expect(tree(there)).toEqual(before);
  });

  it('a damaged set there (prune keeps it) and an unfinished one are removed when named', async () => {
    const s = demoSetup();
    const there = withNas(s);
    const bad = await create(s);
    const good = await create(s);
    writeFileSync(join(there, bad, 'manifest.json'), '{"not": "a manifest"');
    mkdirSync(join(there, '20200101_000000', 'databases'), { recursive: true });
    writeFileSync(join(there, '20200101_000000', 'databases', 'users.sqlite.zst'), 'partial');

    const r = await cli(s, ['delete', bad, '--from', 'nas', '--yes', '--json']);
    expect(r.stderr).toContain('its manifest fails its checks');
    expect(parseJsonOutput<{ state: string }>(r.stdout)).toMatchObject({ deleted: bad, state: 'damaged' });
    const u = await cli(s, ['delete', '20200101_000000', '--from', 'nas', '--yes', '--json']);
    expect(u.stderr).toContain('it has no manifest (an unfinished copy)');
    expect(existsSync(join(there, bad))).toBe(false);
    expect(existsSync(join(there, '20200101_000000'))).toBe(false);
    expect(await remoteIds(s, 'nas')).toEqual([good]);
  });

  it('a delete cut short after its files (their empty folders left): the next delete of it removes them, exit 8', async () => {
    const s = demoSetup();
    const there = withNas(s);
    const id = await create(s);
    const other = await create(s);
    // What a `delete ID --from nas` killed between its last file and the folders leaves: folders, no file.
    for (const f of Object.keys(tree(join(there, id)))) rmSync(join(there, id, f));
    expect(existsSync(join(there, id, 'databases'))).toBe(true);
    const r = await cli(s, ['delete', id, '--from', 'nas', '--yes'], 8);
    expect(r.stderr).toContain(`Set ${id} is not at destination "nas"`);
    expect(existsSync(join(there, id))).toBe(false);
    expect(await remoteIds(s, 'nas')).toEqual([other]);
  });

  it('s3 (s3rver): the set is gone from the bucket, the other stays and restores', async () => {
    const srv = await startS3rver();
    const s = demoSetup();
    const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(s.configFile, JSON.stringify({ ...doc, destinations: [{ ...s3Destination(srv), source: 'srv1' }] }));
    const older = await create(s);
    const newer = await create(s);
    await cli(s, ['delete', newer, '--from', 'offsite', '--yes']);
    expect(await remoteIds(s, 'offsite')).toEqual([older]);
    const to = join(s.dir, 'back.db');
    await cli(s, ['restore', 'latest', '--from', 'offsite', '--db', 'users', '--to', to, '--yes']);
    expect(existsSync(to)).toBe(true);
  });
});
