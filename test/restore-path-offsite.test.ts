/**
 * `restore --files --path P` from a destination fetches only the manifest and the stored files P chooses, each checked
 * as it arrives (an encrypted set's decrypted and checked against its plaintext hashes too): every other stored file
 * of the set is removed at the destination (folder, S3) before the restore, so fetching one of them would fail. And
 * `latest --files --path P` is the newest set that stores P, here and at a destination: the newer sets that do not
 * are passed over and said (plan, --json); when no set stores P, exit 8 names it with the closest stored paths. The
 * menu's restore of some of the files (the engine facade it calls) lists what a set stores and restores the same way.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { english } from '../src/core/phrases.js';
import { selectionPhrases, type RestorePlan } from '../src/engine/restore.js';
import { say } from '../src/ui/i18n/index.js';
import { ageKeygen } from './helpers/age.js';
import { parseJsonOutput } from './helpers/cli.js';
import { cli } from './helpers/offsite.js';
import { s3Destination, startS3rver, stopAllS3rvers } from './helpers/s3rver.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';
import { loadConfig } from '../src/config/load.js';
import { silentReporter } from '../src/core/events.js';
import type { PathChoices } from '../src/engine/stored-path-choices.js';
import { createEngineFacade } from '../src/ui/engine-facade.js';

afterAll(async () => {
  await stopAllS3rvers();
});

const SITE: Record<string, string> = {
  'app.conf': 'port=8080\nname=ventas\n',
  'conf/a.ini': '[a]\nx=1\n',
  'other.txt': 'other\n',
  'public/index.html': '<p>hola</p>\n',
};

/** A setup whose sets hold users and ./data/site (application files), with destination `dest` and maybe a key. */
function siteSetup(dest: Record<string, unknown>, opts: { encrypted?: boolean } = {}): DemoSetup {
  const s = demoSetup({ files: { application: [{ path: './data/site' }] } });
  const site = join(s.dataDir, 'site');
  for (const [name, text] of Object.entries(SITE)) {
    mkdirSync(join(site, name, '..'), { recursive: true });
    writeFileSync(join(site, name), text);
  }
  const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
  const key = join(s.dir, 'key.txt');
  const encryption = opts.encrypted ? { encryption: { recipients: [ageKeygen(key)], identityFile: key } } : {};
  writeFileSync(s.configFile, JSON.stringify({ ...doc, ...encryption, destinations: [dest] }));
  return s;
}

const create = async (s: DemoSetup) =>
  parseJsonOutput<Manifest>((await cli(s, ['create', '--json', '--db', 'users'])).stdout);

/** The stored file of application file `rel` of set `m`. */
const storedOf = (m: Manifest, rel: string) => m.files.find((f) => f.relative === rel && f.group === 'application')!;

/**
 * Removes at the destination every stored file of set `m` but `keep` (and the manifest): files below `root` whose
 * path, without what a store adds after it (s3rver's `._S3rver_object`), ends with `<id>/<stored path>`.
 */
function removeOthersThere(root: string, m: Manifest, keep: string): number {
  const others = [
    ...m.databases.flatMap((d) => [d.file, ...(d.extras ?? []).map((x) => x.file)]),
    ...m.files.map((f) => f.stored),
  ].filter((p): p is string => Boolean(p) && p !== keep);
  let removed = 0;
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const key = relative(root, p).replace(/\._S3rver_[^/]*$/, '');
        if (others.some((o) => key.endsWith(`${m.id}/${o}`))) {
          unlinkSync(p);
          removed++;
        }
      }
    }
  };
  walk(root);
  return removed;
}

describe('restore --files --path from a destination fetches only what it needs', () => {
  it('folder: one file of the set comes, the others removed there; the plan says how much of how much', async () => {
    const nas = join(demoSetup({}, { demo: false }).dir, 'nas');
    mkdirSync(nas);
    const s = siteSetup({ name: 'nas', type: 'folder', path: nas, source: 'srv1' });
    const m = await create(s);
    const app = storedOf(m, 'site/app.conf');
    expect(removeOthersThere(nas, m, app.stored!)).toBe(m.files.filter((f) => f.stored).length);
    rmSync(s.backupDir, { recursive: true, force: true });
    const args = ['restore', m.id, '--from', 'nas', '--files', '--path', 'application/site/app.conf'];
    const storedCount = m.files.filter((f) => f.stored).length + 1; // and the database's file
    const dry = await cli(s, [...args, '--dry-run']);
    expect(dry.stdout).toContain(`(only what --path chooses: 1 of the ${storedCount} stored file(s),`);
    const json = parseJsonOutput<RestorePlan>((await cli(s, [...args, '--dry-run', '--json'])).stdout);
    expect(json.options.fetchPart).toMatchObject({ count: 1, storedCount });
    const to = join(s.dir, 'one');
    const r = await cli(s, [...args, '--to', to, '--yes']);
    expect(r.stdout).toContain(
      `1. fetch the stored files (only what --path chooses: 1 of the ${storedCount} stored file(s)`,
    );
    expect(readFileSync(join(to, 'application/site/app.conf'), 'utf8')).toBe(SITE['app.conf']);
    expect(readdirSync(to, { recursive: true })).toEqual([
      'application',
      'application/site',
      'application/site/app.conf',
    ]);
    // The fetch folder went with the restore, as it does for a whole set.
    expect(readdirSync(s.backupDir).filter((n) => n.startsWith('.respaldo-'))).toEqual([]);
  });

  it('S3, encrypted: only the chosen file is fetched, decrypted and checked; a damaged one there is exit 5', async () => {
    const srv = await startS3rver();
    const s = siteSetup(s3Destination(srv, { forcePathStyle: true, source: 'srv1' }), { encrypted: true });
    const m = await create(s);
    expect(m.encryption).toBeDefined();
    const conf = storedOf(m, 'site/conf/a.ini');
    expect(removeOthersThere(srv.dir, m, conf.stored!)).toBeGreaterThan(m.files.length);
    rmSync(s.backupDir, { recursive: true, force: true });
    const to = join(s.dir, 'conf');
    const args = ['restore', 'latest', '--from', 'offsite', '--files', '--path', 'application/site/conf'];
    await cli(s, [...args, '--to', to, '--yes']);
    expect(readFileSync(join(to, 'application/site/conf/a.ini'), 'utf8')).toBe(SITE['conf/a.ini']);
    // Its bytes changed there (same size): the fetch checks them against the manifest, nothing is restored.
    const object = readdirSync(srv.dir, { recursive: true, encoding: 'utf8' }).find(
      (p) => p.includes(m.id) && p.includes(conf.stored!) && p.endsWith('._S3rver_object'),
    )!;
    const bytes = readFileSync(join(srv.dir, object));
    bytes[bytes.length >> 1]! ^= 0x40;
    writeFileSync(join(srv.dir, object), bytes);
    const bad = await cli(s, [...args, '--to', `${to}2`, '--yes'], 5);
    expect(bad.stderr).toContain('does not match its manifest');
    expect(readdirSync(s.dir).filter((n) => n.startsWith('conf2') || n.includes('respaldo-partial'))).toEqual([]);
  });
});

describe('restore latest --files --path: the newest set that stores the path', () => {
  /** Set A stores other.txt; it is removed from the site, then set B (files, no other.txt), then C (users alone). */
  async function threeSets(dest: Record<string, unknown> = { name: 'nas', type: 'folder', path: './nas' }) {
    const s = siteSetup({ source: 'srv1', ...dest });
    mkdirSync(join(s.dir, 'nas'), { recursive: true });
    const a = await create(s);
    rmSync(join(s.dataDir, 'site', 'other.txt'));
    const b = await create(s);
    const c = parseJsonOutput<Manifest>((await cli(s, ['create', '--json', '--db', 'users', '--no-files'])).stdout);
    return { s, a, b, c };
  }

  it('here: passes over the newer sets that do not store it, and says so (plan, --json); none: exit 8', async () => {
    const { s, a, b, c } = await threeSets();
    const args = ['restore', 'latest', '--files', '--path', 'application/site/other.txt'];
    const dry = await cli(s, [...args, '--dry-run']);
    expect(dry.stdout).toContain(`latest is set ${a.id}`);
    expect(dry.stdout).toContain(`1 newer set(s) do not store application/site/other.txt, passed over: ${b.id}`);
    expect(dry.stdout).toContain(`newer sets passed over, each with what it lacks: ${c.id} (files)`);
    const plan = parseJsonOutput<RestorePlan>((await cli(s, [...args, '--dry-run', '--json'])).stdout);
    expect(plan.setId).toBe(a.id);
    expect(plan.selection!.skipped).toEqual([
      { id: c.id, lacks: ['files'] },
      { id: b.id, lacks: ['application/site/other.txt'], paths: true },
    ]);
    const to = join(s.dir, 'other');
    await cli(s, [...args, '--to', to, '--yes']);
    expect(readFileSync(join(to, 'application/site/other.txt'), 'utf8')).toBe(SITE['other.txt']);

    const none = await cli(s, ['restore', 'latest', '--files', '--path', 'application/site/other.text'], 8);
    expect(none.stderr).toContain(
      `--path "application/site/other.text": none of the 2 sets looked at (${b.id} back to ${a.id}) stores a file or folder at that path`,
    );
    expect(none.stderr).toContain(`Closest stored: application/site/other.txt (set ${a.id})`);

    // As of a time after the three: the newest set of then that stores it, the others said as passed over.
    const at = await cli(s, ['restore', '--at', c.completedAt, ...args.slice(2), '--dry-run']);
    expect(at.stdout).toContain(`: set ${a.id}, the newest holding files ending at or before that time.`);
    expect(at.stdout).toContain(`passed over ${b.id}: it does not store application/site/other.txt`);
  });

  it('at a destination: reads the manifests there until one stores it, and fetches from that set', async () => {
    const { s, a, b, c } = await threeSets();
    rmSync(s.backupDir, { recursive: true, force: true });
    const args = ['restore', 'latest', '--from', 'nas', '--files', '--path', 'application/site/other.txt'];
    const dry = await cli(s, [...args, '--dry-run']);
    expect(dry.stdout).toContain(`Set ${a.id} at destination "nas"`);
    expect(dry.stdout).toContain(`1 newer set(s) do not store application/site/other.txt, passed over: ${b.id}`);
    const to = join(s.dir, 'other');
    await cli(s, [...args, '--to', to, '--yes']);
    expect(readFileSync(join(to, 'application/site/other.txt'), 'utf8')).toBe(SITE['other.txt']);
    expect(readdirSync(s.backupDir).filter((n) => n.startsWith('.respaldo-'))).toEqual([]);
    const none = await cli(s, [...args.slice(0, -1), 'application/site/nope.txt', '--dry-run'], 8);
    expect(none.stderr).toContain(`none of the 2 sets looked at (${b.id} back to ${a.id})`);
    const at = await cli(s, ['restore', '--at', c.completedAt, ...args.slice(2), '--to', `${to}-at`, '--yes']);
    expect(at.stdout).toContain(`passed over ${b.id}: it does not store application/site/other.txt`);
    expect(readFileSync(join(`${to}-at`, 'application/site/other.txt'), 'utf8')).toBe(SITE['other.txt']);
  });

  it('says the sets passed over for a path in Spanish too', () => {
    const sel = { asked: 'latest', setId: '20261205_020000', holds: { databases: [], failedDatabases: [], files: 3 } };
    const skipped = [{ id: '20261206_020000', lacks: ['config/app.conf'], paths: true }];
    const [, passed] = selectionPhrases({ ...sel, skipped });
    expect(english(passed!)).toBe('1 newer set(s) do not store config/app.conf, passed over: 20261206_020000');
    expect(say('es', passed!, english(passed!))).toBe(
      '1 copia(s) más reciente(s) no guardan config/app.conf, descartadas: 20261206_020000',
    );
  });
});

describe("the menu's restore of some of the files (the engine behind it)", () => {
  const facadeOf = async (s: DemoSetup) => createEngineFacade(await loadConfig({ configPath: s.configFile }));
  const names = (l: PathChoices) => l.choices.map((c) => `${c.path}${c.folder ? ` (${c.files})` : ''}`);

  it('lists what a set stores one level down, here and at a destination; restores only the path typed', async () => {
    const nas = join(demoSetup({}, { demo: false }).dir, 'nas');
    mkdirSync(nas);
    const s = siteSetup({ name: 'nas', type: 'folder', path: nas, source: 'srv1' });
    const m = await create(s);
    const facade = await facadeOf(s);
    for (const from of [undefined, 'nas']) {
      expect(names(await facade.storedPathChoices(m.id, '', 50, from))).toEqual(['application/ (4)']);
      const site = await facade.storedPathChoices(m.id, 'application/site/', 50, from);
      expect(names(site)).toEqual([
        'application/site/app.conf',
        'application/site/conf/ (1)',
        'application/site/other.txt',
        'application/site/public/ (1)',
      ]);
      expect(site.matched).toBe(4);
    }
    // Here: only the folder typed comes back.
    const here = join(s.dir, 'here');
    const req = { setId: m.id, databases: [], files: true, to: here, paths: ['application/site/conf'] };
    await facade.executeRestore(await facade.planRestore(req), silentReporter);
    expect(readdirSync(here, { recursive: true }).sort()).toEqual([
      'application',
      'application/site',
      'application/site/conf',
      'application/site/conf/a.ini',
    ]);
    // At the destination, every other stored file gone there and the backup folder emptied: only that file is fetched.
    const app = storedOf(m, 'site/app.conf');
    removeOthersThere(nas, m, app.stored!);
    rmSync(s.backupDir, { recursive: true, force: true });
    const there = join(s.dir, 'there');
    const fromNas = { ...req, from: 'nas', to: there, paths: ['application/site/app.conf'] };
    const plan = await facade.planRestore(fromNas);
    expect(plan.options.fetchPart).toMatchObject({ count: 1 });
    await facade.executeRestore(plan, silentReporter);
    expect(readFileSync(join(there, 'application/site/app.conf'), 'utf8')).toBe(SITE['app.conf']);
    expect(readdirSync(there, { recursive: true })).toEqual([
      'application',
      'application/site',
      'application/site/app.conf',
    ]);
    await facade.releaseFetched();
  });

  it('at a destination, fetches the manifest once for every listing of a set, kept until the wizard is left', async () => {
    const nas = join(demoSetup({}, { demo: false }).dir, 'nas');
    mkdirSync(nas);
    const s = siteSetup({ name: 'nas', type: 'folder', path: nas, source: 'srv1' });
    const [m, other] = [await create(s), await create(s)];
    const facade = await facadeOf(s);
    // This run's scratch folders of the system's temporary folder (system-scratch.ts), each with the manifest kept.
    const kept = () =>
      readdirSync(tmpdir())
        .filter((n) => n.startsWith('respaldo-restore-'))
        .map((n) => join(tmpdir(), n, `.tmp-restore-${process.pid}`, 'manifest.json'))
        .filter((f) => existsSync(f))
        .map((f) => (JSON.parse(readFileSync(f, 'utf8')) as Manifest).id);
    const top = ['application/ (4)'];
    expect(names(await facade.storedPathChoices(m.id, '', 50, 'nas'))).toEqual(top);
    expect(kept()).toEqual([m.id]);
    // Gone there after the first listing: each Tab lists the copy fetched then, not fetched again.
    const there = join(nas, 'srv1', m.id);
    const moved = `${there}.away`;
    renameSync(there, moved);
    expect(names(await facade.storedPathChoices(m.id, 'application/', 50, 'nas'))).toEqual(['application/site/ (4)']);
    const twice = await Promise.all([1, 2].map(() => facade.storedPathChoices(m.id, 'application/site/c', 50, 'nas')));
    expect(twice.map(names)).toEqual([['application/site/conf/ (1)'], ['application/site/conf/ (1)']]);
    // Another set: its manifest replaces the one kept.
    expect(names(await facade.storedPathChoices(other.id, '', 50, 'nas'))).toEqual(top);
    expect(kept()).toEqual([other.id]);
    // Left: nothing kept, and the next listing fetches again (the set it asks for is not there now).
    await facade.releaseFetched();
    expect(kept()).toEqual([]);
    await expect(facade.storedPathChoices(m.id, '', 50, 'nas')).rejects.toThrow(/manifest|not found|no such/i);
    expect(kept()).toEqual([]);
    renameSync(moved, there);
    expect(names(await facade.storedPathChoices(m.id, '', 50, 'nas'))).toEqual(top);
    await facade.releaseFetched();
    expect(kept()).toEqual([]);
  });
});
