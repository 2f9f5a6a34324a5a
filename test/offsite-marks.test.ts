import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { setsTable } from '../src/cli/commands/list.js';
import type { Manifest, SetSummary } from '../src/core/types.js';
import { parseJsonOutput } from './helpers/cli.js';
import { cli } from './helpers/offsite.js';
import { demoSetup } from './helpers/tmp.js';

function summary(id: string, over: Partial<SetSummary> = {}): SetSummary {
  return {
    id,
    type: 'full',
    status: 'completed',
    description: null,
    startedAt: '2026-11-22T10:00:00.000Z',
    completedAt: '2026-11-22T10:00:04.000Z',
    databases: ['users', 'inventario', 'auditoria'],
    failedDatabases: [],
    files: 12,
    storedBytes: 1234567,
    job: null,
    keep: false,
    lastVerified: { at: '2026-11-22T11:00:00.000Z', ok: true },
    path: `/srv/backups/${id}`,
    ...over,
  };
}

describe('list: sets not copied off-site', () => {
  const sets = [
    summary('20261122_100000', { notCopiedTo: ['nas', 'offsite'] }),
    summary('20261121_100000', { notCopiedTo: [], keep: true }),
    summary('20261120_100000', { type: 'pre_restore', databases: ['users'], notCopiedTo: [] }),
  ];

  it('piped: a NOT COPIED TO column naming the destinations', () => {
    const lines = setsTable(sets, null).split('\n');
    expect(lines[0]).toMatch(/DRILLED\s+NOT COPIED TO$/);
    expect(lines[1]).toMatch(/^20261122_100000 .*nas,offsite$/);
    expect(lines[2]).toMatch(/^20261121_100000\* .* -$/);
  });

  it.each([80, 60, 40])('at %i columns: a ! after the id, no line wider', (width) => {
    const text = setsTable(sets, width);
    for (const l of text.split('\n')) expect(l.length, l).toBeLessThanOrEqual(width);
    expect(text).toMatch(/^20261122_100000! /m);
    expect(text).toMatch(/^20261121_100000\* /m);
  });

  it('without destinations, no column and no mark', () => {
    const plain = sets.map(({ notCopiedTo: _n, ...s }) => s);
    expect(setsTable(plain, null)).not.toContain('NOT COPIED');
    expect(setsTable(plain, 80)).not.toContain('!');
  });
});

describe('list and status on a real failed copy', () => {
  it('an unmounted folder destination: list and status say which set is not copied and why; after copy, nothing', async () => {
    const s = demoSetup();
    const nas = join(s.dir, 'nas');
    writeFileSync(
      s.configFile,
      JSON.stringify({
        ...JSON.parse(readFileSync(s.configFile, 'utf8')),
        destinations: [{ name: 'nas', type: 'folder', path: nas, source: 'srv1' }],
      }),
    );
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'], 12)).stdout);
    const listed = parseJsonOutput<SetSummary[]>((await cli(s, ['list', '--json'])).stdout);
    expect(listed).toMatchObject([{ id: m.id, notCopiedTo: ['nas'] }]);
    const text = (await cli(s, ['list'])).stdout;
    expect(text).toMatch(new RegExp(`^${m.id} .* nas$`, 'm'));
    expect(text).toContain('1 set(s) not copied to nas: `respaldo copy`');
    const status = (await cli(s, ['status'])).stdout;
    expect(status).toMatch(/^DESTINATION\s+TYPE\s+NEWEST SET THERE\s+NOT COPIED$/m);
    expect(status).toMatch(/^nas\s+folder\s+none from here\s+1$/m);
    expect(status).toContain(`nas: set ${m.id} NOT copied`);
    expect(status).toContain('does not exist (not mounted?)');
    const json = parseJsonOutput<{ offsite: unknown[] }>((await cli(s, ['status', '--json'])).stdout);
    expect(json.offsite).toMatchObject([{ destination: 'nas', notCopied: [m.id], newestCopied: null }]);

    mkdirSync(nas);
    await cli(s, ['copy']);
    expect(parseJsonOutput<SetSummary[]>((await cli(s, ['list', '--json'])).stdout)).toMatchObject([
      { id: m.id, notCopiedTo: [] },
    ]);
    const after = (await cli(s, ['status'])).stdout;
    expect(after).toMatch(new RegExp(`^nas\\s+folder\\s+${m.id} \\(.* ago\\)\\s+0$`, 'm'));
    expect(after).not.toContain('NOT copied');
    expect((await cli(s, ['list'])).stdout).not.toContain('not copied');

    // Removed at nas: list still says it was copied (README: the column is whether a copy was made), list --from
    // nas no longer shows it, and status's newest set there is none.
    await cli(s, ['delete', m.id, '--from', 'nas', '--yes']);
    expect((await cli(s, ['list'])).stdout).toMatch(new RegExp(`^${m.id} .* -$`, 'm'));
    expect((await cli(s, ['list', '--from', 'nas'])).stdout).not.toContain(m.id);
    expect((await cli(s, ['status'])).stdout).toMatch(/^nas\s+folder\s+none from here\s+0$/m);
  });
});
