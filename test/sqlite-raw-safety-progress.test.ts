/**
 * The safety copy of a SQLite file SQLite cannot read stores its bytes and its -wal (two parts): the percentage of
 * its progress never falls when the second part starts (it went from 100 % of the file to the file's share of both).
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { silentReporter } from '../src/core/events.js';
import { createBackup } from '../src/engine/create.js';
import { executeRestore, planRestore } from '../src/engine/restore.js';
import { FakeReporter } from './helpers/reporter.js';
import { demoSetup } from './helpers/tmp.js';

describe('progress of a raw-bytes safety copy with a -wal', () => {
  it('its percentage never falls from the file to the -wal, and its total is both from the start', async () => {
    const s = demoSetup();
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const m = await createBackup(cfg, { databases: ['users'], files: false }, silentReporter);
    // Not a database any more (SQLite cannot open it), and a -wal much larger than it beside it
    const file = Buffer.concat([Buffer.from('not a database any more\n'), randomBytes(2 << 20)]);
    const wal = randomBytes(24 << 20);
    writeFileSync(s.dbs.users, file);
    writeFileSync(`${s.dbs.users}-wal`, wal);

    const plan = await planRestore(cfg, m.id, { databases: ['users'] });
    const reporter = new FakeReporter();
    const r = await executeRestore(cfg, plan, reporter);
    expect(r.safetySetIds).toHaveLength(1);
    // The safety copy's progress: the events of users up to the first that is the restore's own step
    const events = reporter.events;
    const firstEnd = events.findIndex((e) => e.type === 'item-end' && e.item === 'users');
    const safety = events
      .slice(0, firstEnd)
      .filter((e) => e.type === 'item-progress' && e.item === 'users' && e.totalBytes !== undefined)
      .map((e) => e as { bytes: number; totalBytes: number });
    const both = file.length + wal.length;
    expect(safety.some((e) => e.bytes > file.length)).toBe(true); // the -wal's part was said
    const percents = safety.map((e) => Math.round((e.bytes / e.totalBytes) * 100));
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(safety.every((e) => e.totalBytes === both)).toBe(true);
  });
});
