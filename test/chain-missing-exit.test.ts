/**
 * The exit code of a restore whose chain lacks a member, the same here and at a destination (README, exit codes): a
 * stored file of a member missing is damage, as for that set itself (exit 5, "a stored file does not match its
 * manifest (changed, truncated or missing)"); a whole set of the chain gone (pruned, deleted) leaves no damaged file
 * but a chain that cannot be used: refused (exit 9). Nothing is restored either way. `drill --from` gives the same
 * codes (it fetches the chain as restore --from does); a local drill of such a set is a failed drill (exit 11).
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, fullThenIncremental } from './helpers/offsite.js';
import { dbDigest } from './helpers/sqlite.js';

describe('a chain member missing: the same exit code here and at a destination', () => {
  it("a member's stored file missing: exit 5 (damage), here and --from, planned, run and streamed", async () => {
    const { s, full, inc, here, there } = await fullThenIncremental();
    const before = dbDigest(s.dbs.users);
    rmSync(join(there(full.id), full.databases[0]!.file!));
    for (const extra of [['--dry-run'], ['--yes'], ['--stream', '--yes']]) {
      const r = await cli(s, ['restore', inc.id, '--from', 'nas', '--db', 'users', ...extra], 5);
      expect(r.stdout + r.stderr).toContain(`stored file ${full.databases[0]!.file} is missing at nas`);
    }
    rmSync(join(here(full.id), full.databases[0]!.file!));
    for (const extra of [['--dry-run'], ['--yes']]) {
      const r = await cli(s, ['restore', inc.id, '--db', 'users', ...extra], 5);
      expect(r.stdout + r.stderr).toContain(`stored file ${full.databases[0]!.file} is missing`);
    }
    expect(dbDigest(s.dbs.users)).toEqual(before);
  }, 60_000);

  it('a whole set of the chain gone (pruned, deleted): exit 9 (refused), here and --from', async () => {
    const { s, full, inc, here, there } = await fullThenIncremental();
    const before = dbDigest(s.dbs.users);
    renameSync(there(full.id), `${there(full.id)}.away`);
    for (const extra of [['--dry-run'], ['--yes']]) {
      const r = await cli(s, ['restore', inc.id, '--from', 'nas', '--db', 'users', ...extra], 9);
      expect(r.stdout + r.stderr).toContain(`set ${full.id} (needed by ${inc.id}) is missing`);
    }
    rmSync(here(full.id), { recursive: true });
    for (const extra of [['--dry-run'], ['--yes']]) {
      const r = await cli(s, ['restore', inc.id, '--db', 'users', ...extra], 9);
      expect(r.stdout + r.stderr).toContain(`set ${full.id} (needed by ${inc.id}) is missing`);
    }
    expect(dbDigest(s.dbs.users)).toEqual(before);
  }, 60_000);

  it('drill --from gives the same codes: a stored file missing exit 5, a whole set gone exit 9', async () => {
    const { s, full, inc, here, there } = await fullThenIncremental();
    const file = full.databases[0]!.file!;
    const saved = join(s.dir, 'saved-file');
    renameSync(join(there(full.id), file), saved);
    const damaged = await cli(s, ['drill', inc.id, '--from', 'nas', '--db', 'users'], 5);
    expect(damaged.stdout + damaged.stderr).toContain(`stored file ${file} is missing at nas`);
    renameSync(saved, join(there(full.id), file));
    renameSync(there(full.id), `${there(full.id)}.away`);
    const gone = await cli(s, ['drill', inc.id, '--from', 'nas', '--db', 'users'], 9);
    expect(gone.stdout + gone.stderr).toContain(`set ${full.id} (needed by ${inc.id}) is missing`);
    expect(existsSync(join(here(inc.id), 'drilled.json'))).toBe(false); // nothing drilled, nothing recorded
  }, 60_000);
});
