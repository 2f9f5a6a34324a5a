/**
 * A restore of an encrypted set's files holds none of their entries: they are read lean from the manifest, again for
 * each pass (checked, decrypted, restored), where the restore held them all (with `--db`, a decrypted copy of each
 * too). 100 000 small files, `restore --files --to`: peak RSS 211 → 133 MiB; 20 000 with a database, `restore --db
 * users --files --to`: 131 → 106 MiB. Here 12 000, each restore's live heap measured in its own process, after a
 * full collection made every 250 ms. Real CLI, real files.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encryptedUploadsSet } from './helpers/age.js';
import { CLI_BIN } from './helpers/cli.js';
import { liveRecorder } from './helpers/memory.js';

const FOLDERS = 12;
const FILES = FOLDERS * 1000;
const MiB = 1024 * 1024;
/** The live heap's limit, MiB: 14.4 alone and 14.7 with the database now, 22.3 and 21.9 when the entries were held. */
const LIMIT = 18.5;

describe('a restore of an encrypted set of many files', () => {
  it(`holds none of the entries of its ${FILES} files, alone or with a database`, async () => {
    const { s, id } = await encryptedUploadsSet(FOLDERS);

    const restore = (args: string[], to: string): number => {
      const { preload, live } = liveRecorder(s.dir, { everyMs: 250 });
      const run = spawnSync(
        process.execPath,
        ['--import', preload, CLI_BIN, 'restore', id, ...args, '--to', to, '--yes', '--config', s.configFile],
        { cwd: s.dir, encoding: 'utf8', env: { ...process.env, CI: 'true', NO_COLOR: '1' } },
      );
      expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
      return live() / MiB;
    };
    const count = (uploads: string): number =>
      readdirSync(uploads).reduce((n, d) => n + readdirSync(join(uploads, d)).length, 0);

    // The files alone: each decrypted as it is restored, checked in the same read.
    const alone = join(s.dir, 'alone');
    const aloneHeap = restore(['--files'], alone);
    expect(count(join(alone, 'application', 'uploads'))).toBe(FILES);
    expect(readFileSync(join(alone, 'application', 'uploads', 'folder-11', 'an-uploaded-file-999.txt'), 'utf8')).toBe(
      'file 11/999\n',
    );
    expect(aloneHeap, 'files alone: live heap after a full collection, MiB').toBeLessThan(LIMIT);

    // With the database: the set decrypted whole into the scratch folder first, then restored from there.
    const both = join(s.dir, 'both');
    const bothHeap = restore(['--db', 'users', '--files'], both);
    expect(count(join(both, 'files', 'application', 'uploads'))).toBe(FILES);
    expect(readdirSync(both)).toContain('users.db');
    expect(bothHeap, 'with a database: live heap after a full collection, MiB').toBeLessThan(LIMIT);
  }, 300_000);
});
