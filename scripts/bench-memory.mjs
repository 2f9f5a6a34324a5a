#!/usr/bin/env node
/**
 * Peak RSS (and wall time) of the read-only commands, each run `--runs` times under /usr/bin/time; prints the
 * smallest peak and the median time of each, next to a bare `node -e 0`, and the load average (the machine may
 * be shared). Uses the built CLI (npm run build) and an existing config with at least one set. It is not a test.
 *
 *   node scripts/bench-memory.mjs --config respaldo.json [--set <id>] [--runs 3] [--bin other/bin/respaldo.js]
 *
 * Without --set, `show` and `verify` take the newest set (from `list --json`); --bin measures another checkout
 * (before/after a change).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const config = opt('config');
if (!config) {
  process.stderr.write('usage: node scripts/bench-memory.mjs --config <respaldo.json> [--set <id>] [--runs 3]\n');
  process.exit(2);
}
const runs = Number(opt('runs', '3'));
const bin = resolve(opt('bin', join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'respaldo.js')));
const withConfig = ['--config', resolve(config)];
const setId =
  opt('set') ??
  JSON.parse(execFileSync(process.execPath, [bin, 'list', '--json', ...withConfig], { encoding: 'utf8' }))[0]?.id;

/** One run under /usr/bin/time: seconds and peak RSS in MiB. */
function timed(argv) {
  const r = spawnSync('/usr/bin/time', ['-f', 'BENCH %e %M', process.execPath, ...argv], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  const line = r.stderr.split('\n').find((l) => l.startsWith('BENCH '));
  if (!line) throw new Error(`${argv.join(' ')}: no figures from /usr/bin/time (exit ${r.status}):\n${r.stderr}`);
  const [, secs, kib] = line.split(' ');
  return { seconds: Number(secs), peakMiB: Number(kib) / 1024, code: r.status };
}

const cases = [
  ['node -e 0 (bare Node)', ['-e', '0']],
  ['respaldo --help', [bin, '--help']],
  ['respaldo list', [bin, 'list', ...withConfig]],
  ['respaldo status', [bin, 'status', ...withConfig]],
  ...(setId
    ? [
        [`respaldo show ${setId}`, [bin, 'show', setId, ...withConfig]],
        [`respaldo verify ${setId}`, [bin, 'verify', setId, ...withConfig]],
      ]
    : []),
];
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
console.log(`Node ${process.version}, ${runs} runs each, load average ${load()}`);
for (const [label, argv] of cases) {
  const all = Array.from({ length: runs }, () => timed(argv));
  const peak = Math.min(...all.map((r) => r.peakMiB));
  const secs = all.map((r) => r.seconds).sort((a, b) => a - b)[Math.floor(runs / 2)];
  const codes = [...new Set(all.map((r) => r.code))].join(',');
  console.log(`${label.padEnd(36)} peak RSS ${peak.toFixed(0).padStart(4)} MiB  ${secs.toFixed(2)} s  exit ${codes}`);
}
console.log(`load average after: ${load()}`);
