/**
 * The room a restore plan needs on the disks it writes on (src/engine/restore-room.ts), as data: the databases
 * restored onto one disk add up, what recovery drops there first counts as free, a disk respaldo cannot see is
 * not judged, and a database server's disk is a refusal where a file's disk is a warning.
 */
import { describe, expect, it } from 'vitest';
import { english } from '../src/core/phrases.js';
import type { TargetDisk } from '../src/drivers/driver.js';
import { shortDiskPhrases, shortDisks } from '../src/engine/restore-room.js';

const MB = 1 << 20; // formatBytes counts in MiB
const disk = (device: number, freeMb: number, more: Partial<TargetDisk> = {}): TargetDisk => ({
  path: `/disk${device}`,
  device,
  freeBytes: freeMb * MB,
  ...more,
});

describe('shortDisks', () => {
  it('adds up the databases restored onto one disk; each disk on its own', () => {
    const plan = [
      { database: 'users', state: { disk: disk(1, 100) }, estimatedRestoredBytes: 60 * MB },
      { database: 'inventario', state: { disk: disk(1, 100) }, estimatedRestoredBytes: 50 * MB },
      { database: 'auditoria', state: { disk: disk(2, 100) }, estimatedRestoredBytes: 90 * MB },
    ];
    expect(shortDisks(plan)).toEqual([
      { disk: disk(1, 100), databases: ['users', 'inventario'], bytes: 110 * MB, free: 100 * MB, server: false },
    ]);
    // each alone fits
    expect(shortDisks(plan.slice(1))).toEqual([]);
  });

  it('counts what recovery drops there first as free, and judges no disk it cannot see or size it cannot tell', () => {
    const leftover = disk(1, 30, { server: true, leftoverBytes: 40 * MB });
    expect(shortDisks([{ database: 'users', state: { disk: leftover }, estimatedRestoredBytes: 60 * MB }])).toEqual([]);
    expect(
      shortDisks([{ database: 'users', state: { disk: leftover }, estimatedRestoredBytes: 80 * MB }]),
    ).toMatchObject([{ free: 70 * MB, server: true }]);
    expect(
      shortDisks([
        { database: 'elsewhere', state: {}, estimatedRestoredBytes: 900 * MB },
        { database: 'unknown', state: { disk: disk(3, 1) }, estimatedRestoredBytes: null },
      ]),
    ).toEqual([]);
  });
});

describe('shortDiskPhrases', () => {
  it("a server's disk is a refusal with a hint naming --ignore-free-space; a file's disk a warning", () => {
    const [server] = shortDisks([
      {
        database: 'users',
        state: { disk: disk(1, 30, { server: true, path: '/var/lib/pg' }) },
        estimatedRestoredBytes: 54 * MB,
      },
    ]);
    const s = shortDiskPhrases(server!);
    expect(english(s.message)).toBe(
      "users: restoring needs about 54 MB on the database server's disk (/var/lib/pg), which has 30 MB free. " +
        'Filled, the server would stop every session and restart, the live databases with it.',
    );
    expect(english(s.hint!)).toMatch(
      /if the estimate \(the size when backed up\) is too high, run the restore with --ignore-free-space \(CLI\)\.$/,
    );
    expect(english(s.ignored)).toMatch(/restoring all the same \(--ignore-free-space\)/);
    const [file] = shortDisks([
      { database: 'users', state: { disk: disk(2, 1, { path: '/mnt/usb' }) }, estimatedRestoredBytes: 3 * MB },
    ]);
    const f = shortDiskPhrases(file!);
    expect(f.hint).toBeNull();
    expect(english(f.message)).toBe(
      'users: restoring needs about 3.0 MB on the disk of /mnt/usb, which has 1.0 MB free: the restore would fill ' +
        'it, then fail (what it replaces stays as it is). Free space there first, or restore elsewhere with --to.',
    );
  });
});
