import { EXIT } from '../../core/exit-codes.js';
import type { SetSummary } from '../../core/types.js';
import { pruneRemote } from '../../engine/remote-prune.js';
import { DEFAULT_MANUAL_RETENTION, type PruneDecision } from '../../engine/retention.js';
import type { CommandIO } from '../context.js';
import { foldLine, foldedTable, formatBytes, outputWidth } from '../format.js';

/** A set of `prune --json`, here or at a destination: what it is, whether it is marked keep, the decision and why. */
export function pruneRow(
  p: { set: SetSummary; decision: PruneDecision; job: string | null },
  removed: readonly string[],
) {
  return {
    id: p.set.id,
    type: p.set.type,
    status: p.set.status,
    startedAt: p.set.startedAt,
    databases: p.set.databases,
    job: p.job,
    storedBytes: p.set.storedBytes,
    keep: p.set.keep,
    action: p.decision.action,
    reasons: p.decision.reasons,
    ...(p.decision.needs ? { needs: p.decision.needs } : {}),
    removed: removed.includes(p.set.id),
  };
}

/** `prune --from NAME [--dry-run]`: retention at a destination, and the leftovers of killed runs there. */
export async function pruneFrom(io: CommandIO, name: string, dryRun: boolean): Promise<number> {
  const cfg = await io.config();
  const r = await pruneRemote(cfg, name, { dryRun }, io.reporter);
  // A damaged set there (its manifest fails its checks) is kept and named; the others are pruned, then exit 5.
  const code = r.failed.length ? EXIT.failed : r.damaged.length ? EXIT.verifyFailed : EXIT.ok;
  if (io.json) {
    io.printJson({
      destination: r.destination,
      where: r.where,
      dryRun: r.dryRun,
      refused: r.refused,
      retention: r.retention,
      sets: r.sets.map((p) => pruneRow(p, r.removed)),
      incomplete: r.incomplete.map((p) => ({ ...p.set, action: p.action, reason: p.reason })),
      temps: r.temps.map((p) => ({ ...p.file, action: p.action, reason: p.reason })),
      claims: r.claims.map((p) => ({ ...p.claim, action: p.action, reason: p.reason })),
      uploads: r.uploads?.map((u) => ({ ...u.upload, action: u.action, reason: u.reason })) ?? null,
      removed: r.removed,
      removedTemps: r.removedTemps,
      removedClaims: r.removedClaims,
      abortedUploads: r.abortedUploads,
      failed: r.failed,
      damaged: r.damaged.map((d) => ({ id: d.id, problem: d.problem, action: 'keep' })),
    });
    return code;
  }
  const p = r.retention;
  const m = { ...DEFAULT_MANUAL_RETENTION, ...p.manual };
  // Folded to the terminal's width, as list is (piped: whole lines).
  const width = outputWidth();
  const say = (line: string): void => io.out(foldLine(line, width));
  say(`Destination "${name}": ${r.where}${r.dryRun ? '  (dry run: nothing is removed)' : ''}`);
  say(
    `Retention there: keepLast ${p.keepLast}, daily ${p.daily}, weekly ${p.weekly}, monthly ${p.monthly}, yearly ${p.yearly}; by hand ${m.days} days, newest ${m.keepLast}`,
  );
  const verb = (action: string, removed: boolean): string =>
    action === 'keep' ? 'keep' : r.dryRun ? 'would remove' : removed ? 'removed' : 'NOT REMOVED';
  const rows = [
    ...r.sets.map((x) => [
      x.set.id + (x.set.keep ? '*' : ''),
      x.set.type,
      x.set.status,
      x.set.type === 'pre_restore' ? '-' : (x.job ?? 'by hand'),
      formatBytes(x.set.storedBytes),
      verb(x.decision.action, r.removed.includes(x.set.id)),
      x.decision.reasons.join('; '),
    ]),
    ...r.incomplete.map((x) => [
      x.set.id,
      '-',
      'incomplete',
      '-',
      formatBytes(x.set.bytes),
      verb(x.action, r.removed.includes(x.set.id)),
      x.reason,
    ]),
    ...r.damaged.map((x) => [
      x.id,
      '-',
      'DAMAGED',
      '-',
      '-',
      'keep',
      'its manifest fails its checks: never removed nor counted by the retention (see below)',
    ]),
  ];
  if (rows.length) io.out(foldedTable([['SET', 'TYPE', 'STATUS', 'JOB', 'SIZE', 'ACTION', 'WHY'], ...rows], width));
  else io.out('No backup sets of this source there.');
  for (const t of r.temps)
    say(
      `${verb(t.action, r.removedTemps.includes(t.file.key))} ${t.file.key} (${formatBytes(t.file.bytes)}): ${t.reason}`,
    );
  for (const c of r.claims.filter((x) => x.action === 'remove'))
    say(`${verb(c.action, r.removedClaims.includes(c.claim.key))} ${c.claim.key}: ${c.reason}`);
  for (const u of r.uploads ?? []) {
    const done =
      u.action === 'keep'
        ? 'keep'
        : r.dryRun
          ? 'would abort'
          : r.abortedUploads.includes(u.upload.key)
            ? 'aborted'
            : 'NOT ABORTED';
    say(`${done} unfinished upload of ${u.upload.key}: ${u.reason}`);
  }
  if (r.uploads === null && cfg.destinations?.find((d) => d.name === name)?.type === 's3')
    say(
      'The store does not list unfinished multipart uploads: give the bucket a lifecycle rule AbortIncompleteMultipartUpload.',
    );
  const removing =
    r.sets.filter((x) => x.decision.action === 'remove').length +
    r.incomplete.filter((x) => x.action === 'remove').length;
  const kept = rows.length - removing;
  if (r.dryRun) io.out(`\n${removing} set(s) would be removed there, ${kept} kept.`);
  else io.out(`\n${r.removed.length} set(s) removed there, ${kept} kept.`);
  if (r.refused) say(`Note: a real prune would refuse now. ${r.refused}`);
  for (const d of r.damaged) say(`DAMAGED set ${d.source}/${d.id} at ${name}: ${d.problem}`);
  if (r.damaged.length)
    say(
      `  inspect it; copy it there again (respaldo copy ID --to ${name}) or remove it there (respaldo delete ID --from ${name}): prune never removes a set it cannot read`,
    );
  for (const f of r.failed) io.err(`respaldo: could not remove ${f.id} at ${name}: ${f.error}`);
  return code;
}
