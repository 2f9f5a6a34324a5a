/**
 * One set damaged here (a stored file that no longer matches its manifest) is not copied, and keeps none of the
 * others from being copied: it stopped every copy to that destination, oldest first, so that a bit flipped in an old
 * set kept every newer one from leaving the machine. A set that applies on it is not sent without it.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest, SetSummary } from '../src/core/types.js';
import { parseJsonOutput } from './helpers/cli.js';
import { cli } from './helpers/offsite.js';
import { demoSetup } from './helpers/tmp.js';

describe('copy with a set damaged here', () => {
  it('copies every other set, not the damaged one nor what applies on it; retention then lets them go', async () => {
    const manual = { days: 0, keepLast: 1 };
    const s = demoSetup({
      retention: { keepLast: 1, daily: 0, weekly: 0, monthly: 0, yearly: 0, manual },
      source: 'srv1',
      destinations: [{ name: 'nas', type: 'folder', path: './nas' }],
    });
    // Made while the NAS is away: none copied.
    const create = async (type: string) =>
      parseJsonOutput<Manifest>((await cli(s, ['create', '--no-files', '--type', type, '--json'], 12)).stdout);
    const full = await create('full');
    const inc = await create('incremental');
    expect([...new Set(inc.databases.map((d) => d.base))]).toEqual([full.id]);
    const later = await create('full');
    const laterInc = await create('incremental'); // the newest incremental: retention's rules keep it, not `inc`
    // A byte of the old full's stored database flipped on the disk.
    const stored = join(s.backupDir, full.id, full.databases[0]!.file!);
    const bytes = readFileSync(stored);
    bytes[bytes.length >> 1]! ^= 0xff;
    writeFileSync(stored, bytes);

    mkdirSync(join(s.dir, 'nas'));
    const r = await cli(s, ['copy', '--to', 'nas'], 12);
    expect(r.stdout).toContain(`copied ${later.id} to nas`);
    expect(r.stdout).toContain(`copied ${laterInc.id} to nas`);
    expect(r.stderr).toContain(`set ${full.id} NOT copied to nas: Local file ${stored} does not match its manifest`);
    expect(r.stderr).toContain(
      `set ${inc.id} NOT copied to nas: not sent: set ${full.id}, which it applies on, could not be copied there first`,
    );
    const there = parseJsonOutput<SetSummary[]>((await cli(s, ['list', '--from', 'nas', '--json'])).stdout);
    expect(there.map((x) => x.id)).toEqual([laterInc.id, later.id]);
    // Nor is the incremental's folder started there: nothing of it was sent.
    expect(readdirSync(join(s.dir, 'nas', 'srv1')).filter((n) => n === inc.id)).toEqual([]);

    // The next backup copies itself (exit 0: its own copy went), and again only what can go, saying what did not.
    const made = await cli(s, ['create', '--no-files', '--json']);
    const next = parseJsonOutput<Manifest>(made.stdout);
    expect(made.stderr).toContain(`set ${full.id} NOT copied to nas: Local file ${stored} does not match`);
    const after = parseJsonOutput<SetSummary[]>((await cli(s, ['list', '--from', 'nas', '--json'])).stdout);
    expect(after.map((x) => x.id).sort()).toEqual([later.id, laterInc.id, next.id].sort());

    // Not copied, both are kept until they are; once verify found the full damaged, neither is held (no copy could
    // send them: the incremental applies on it), and retention removes them.
    const planOf = async () =>
      parseJsonOutput<{ sets: { id: string; action: string; reasons: string[] }[] }>(
        (await cli(s, ['prune', '--dry-run', '--json'])).stdout,
      ).sets;
    const held = (await planOf()).filter((x) => x.reasons.some((w) => w.startsWith('not yet copied to nas')));
    expect(held.map((x) => x.id).sort()).toEqual([full.id, inc.id].sort());
    await cli(s, ['verify', full.id], 5);
    const plan = await planOf();
    expect(plan.filter((x) => x.action === 'remove').map((x) => x.id)).toEqual(
      expect.arrayContaining([full.id, inc.id]),
    );
    expect(plan.flatMap((x) => x.reasons).filter((w) => w.startsWith('not yet copied'))).toEqual([]);
  });

  it("a stored file deleted here is said as the set's problem (it was an internal error with a stack), the others go", async () => {
    const s = demoSetup({ source: 'srv1', destinations: [{ name: 'nas', type: 'folder', path: './nas' }] });
    const create = async () => parseJsonOutput<Manifest>((await cli(s, ['create', '--no-files', '--json'], 12)).stdout);
    const old = await create();
    const newer = await create();
    const stored = join(s.backupDir, old.id, old.databases[0]!.file!);
    rmSync(stored);
    mkdirSync(join(s.dir, 'nas'));
    const r = await cli(s, ['copy', '--to', 'nas'], 12);
    expect(r.stderr).toContain(`set ${old.id} NOT copied to nas: Reading the local file ${stored} failed (ENOENT)`);
    expect(r.stderr).not.toContain('internal error');
    const there = parseJsonOutput<SetSummary[]>((await cli(s, ['list', '--from', 'nas', '--json'])).stdout);
    expect(there.map((x) => x.id)).toEqual([newer.id]);
  });
});
