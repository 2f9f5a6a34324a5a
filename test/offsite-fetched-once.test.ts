/**
 * A set fetched from a destination for a restore has every file checked (size and SHA-256) as it arrives; the
 * restore then checks the files are there with their sizes and does not hash them a second time (it did: a
 * 300 MB set spent 0.9 CPU-s on it). A file missing from the fetched folder still stops the restore.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { CollectingReporter } from '../src/core/events.js';
import type { Manifest } from '../src/core/types.js';
import { executeRestore } from '../src/engine/restore.js';
import { planRestore } from '../src/engine/restore-plan.js';
import { parseJsonOutput } from './helpers/cli.js';
import { cli } from './helpers/offsite.js';
import { dbDigest } from './helpers/sqlite.js';
import { demoSetup } from './helpers/tmp.js';

/** Files the engine hashes in this process (the CLI runs in children, and is not counted). */
const hashed = vi.hoisted(() => ({ files: [] as string[] }));
vi.mock('../src/engine/hash-file.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/engine/hash-file.js')>();
  return {
    ...real,
    hashStoredFile: (...args: Parameters<typeof real.hashStoredFile>) => {
      hashed.files.push(args[0]);
      return real.hashStoredFile(...args);
    },
  };
});

describe('restore --from: the fetched files are hashed once, as they arrive', () => {
  it('the plan says so, the database comes back identical, the verify step reads no file', async () => {
    const s = demoSetup();
    const nas = join(s.dir, 'nas');
    mkdirSync(nas);
    const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(s.configFile, JSON.stringify({ ...doc, destinations: [{ name: 'nas', type: 'folder', path: nas }] }));
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    const users = dbDigest(s.dbs.users);
    rmSync(s.backupDir, { recursive: true, force: true });
    const to = join(s.dir, 'users-back.db');
    const r = await cli(s, ['restore', 'latest', '--from', 'nas', '--db', 'users', '--to', to, '--yes']);
    // The plan is made on the manifests and printed before the files come; they are fetched once it is confirmed.
    const plan = r.stdout.indexOf('Restore plan for set');
    const fetched = r.stdout.indexOf(`Set ${m.id} fetched from destination "nas" and checked against its manifest.`);
    expect(plan).toBeGreaterThan(-1);
    expect(fetched).toBeGreaterThan(plan);
    expect(r.stdout).toContain(
      '1. fetch the stored files from destination "nas" into the backup folder, checking each one\'s size and sha256 as it arrives',
    );
    expect(r.stdout).not.toContain('verify the stored files against the manifest (md5 + sha256)');
    const usersFile = m.databases.find((d) => d.name === 'users')!.file!;
    expect(r.stdout).toContain(`check ${usersFile} as it is fetched from destination "nas" (size, sha256)`);
    expect(r.stdout).not.toContain(`verify ${usersFile} against the manifest`);
    expect(dbDigest(to)).toEqual(users);
  });

  it('engine: with fetchedFrom the verify step hashes nothing and a missing file still refuses; without it, it hashes', async () => {
    const s = demoSetup();
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    const cfg = await loadConfig({ configPath: s.configFile });
    // A fetched folder as remote-fetch.ts leaves it: the set's files under a private folder of backupDir.
    const fetched = join(s.backupDir, '.respaldo-restore-fetch-test', m.id);
    cpSync(join(s.backupDir, m.id), fetched, { recursive: true });
    const verified = (rep: CollectingReporter) =>
      rep.events.filter((e) => e.type === 'item-progress' && e.item === 'verify').at(-1);

    const restoreTo = async (name: string, fetchedFrom?: string) => {
      hashed.files.length = 0;
      const rep = new CollectingReporter();
      const plan = await planRestore(cfg, m.id, {
        setFolder: fetched,
        databases: ['users'],
        to: join(s.dir, name),
        ...(fetchedFrom ? { fetchedFrom } : {}),
      });
      const outcome = await executeRestore(cfg, plan, rep);
      return { rep, outcome, hashed: [...hashed.files] };
    };
    const once = await restoreTo('a.db', 'nas');
    expect(once.outcome.ok).toBe(true);
    expect(once.hashed).toEqual([]);
    // The verify step still accounts for the bytes it found there (the menu shows them).
    const usersEntry = m.databases.find((d) => d.name === 'users')!;
    expect(verified(once.rep)).toMatchObject({ bytes: usersEntry.storedBytes, totalBytes: usersEntry.storedBytes });
    expect(dbDigest(join(s.dir, 'a.db'))).toEqual(dbDigest(s.dbs.users));

    const twice = await restoreTo('b.db');
    expect(twice.outcome.ok).toBe(true);
    expect(twice.hashed).toEqual([join(fetched, usersEntry.file!)]);

    const usersFile = m.databases.find((d) => d.name === 'users')!.file!;
    rmSync(join(fetched, usersFile));
    const missing = await restoreTo('c.db', 'nas').catch((e: unknown) => e as Error);
    const text = missing instanceof Error ? missing.message : JSON.stringify(missing.outcome);
    expect(text).toContain(`${usersFile}: missing`);
  });
});
