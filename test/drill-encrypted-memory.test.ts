/**
 * A files drill of an encrypted set holds none of its file entries: they are read lean, again for each pass (the parts
 * decrypted into the scratch copy, then the copy restored and compared), where the drill listed them all, then listed
 * their parts and made a decrypted copy of every entry. 20 000 small files: live heap 33 → 22 MiB, peak RSS 149 → 120;
 * 100 000: peak RSS 211 → 118 MiB; 12 000 here: old generation in use after a full collection 25 → 15 MiB. Real CLI,
 * real files; the heap measured in the drill's own process.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { encryptedUploadsSet } from './helpers/age.js';
import { CLI_BIN } from './helpers/cli.js';
import { liveRecorder } from './helpers/memory.js';

const FILES = 12_000;
const MiB = 1024 * 1024;

describe('a files drill of an encrypted set', () => {
  it(`of ${FILES} small files holds none of their entries (live heap under 20 MiB; 25 when it held them)`, async () => {
    const { s, id } = await encryptedUploadsSet(FILES / 1000);

    const { preload, live } = liveRecorder(s.dir);
    const drill = spawnSync(
      process.execPath,
      ['--import', preload, CLI_BIN, 'drill', id, '--files', '--config', s.configFile],
      { cwd: s.dir, encoding: 'utf8', env: { ...process.env, CI: 'true', NO_COLOR: '1' } },
    );
    expect(drill.status, `${drill.stdout}\n${drill.stderr}`).toBe(0);
    expect(drill.stdout).toContain(`extracted: ok (${FILES} entries)`);
    expect(live() / MiB, 'live heap after a full collection, MiB').toBeLessThan(20);
  }, 240_000);
});
