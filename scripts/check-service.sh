#!/usr/bin/env bash
# Health check of the automatic backups: is the scheduler running, what did it log last, and how
# old is the newest backup of each database. Exits non-zero when a backup is overdue, so it can
# feed monitoring (Nagios/Zabbix/cron mail).
#
#   scripts/check-service.sh --config /srv/app/backup_config.json
#   scripts/check-service.sh --config ./backup_config.json --max-age 26h --lines 20
#
# Options:
#   --config FILE     backup_config.json (default: $RESPALDO_CONFIG, else ./backup_config.json)
#   --name NAME       systemd unit name (default respaldo-scheduler)
#   --max-age AGE     a database is overdue when its newest completed set is older than AGE
#                     (30m, 12h, 2d, 1w). Default: per database, the period of the most frequent
#                     backup job covering it plus a quarter (at least 1h); 26h when no job covers it.
#   --lines N         log lines to show (default 10)
#   --respaldo CMD    how to run respaldo (default: `respaldo` on PATH, else node + this repository's bin/respaldo.js)
#   --no-service      do not require the scheduler to be running (only check backup ages)
# Exit codes: 0 healthy; 1 a backup is overdue (or a database has none); 2 bad usage;
#             3 backups are fresh but the scheduler is not running; 4 cannot read the status.
set -euo pipefail

die() { local code=$1; shift; printf 'check-service: %s\n' "$*" >&2; exit "$code"; }
usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }

config=${RESPALDO_CONFIG:-./backup_config.json} name='respaldo-scheduler' max_age='' lines=10 respaldo='' need_service=1
while [ $# -gt 0 ]; do
  case "$1" in
    --config) [ $# -ge 2 ] || die 2 '--config needs a file'; config=$2; shift 2 ;;
    --name) [ $# -ge 2 ] || die 2 '--name needs a value'; name=$2; shift 2 ;;
    --max-age) [ $# -ge 2 ] || die 2 '--max-age needs an age'; max_age=$2; shift 2 ;;
    --lines) [ $# -ge 2 ] || die 2 '--lines needs a number'; lines=$2; shift 2 ;;
    --respaldo) [ $# -ge 2 ] || die 2 '--respaldo needs a command'; respaldo=$2; shift 2 ;;
    --no-service) need_service=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die 2 "unknown argument: $1" ;;
  esac
done
[[ "$lines" =~ ^[0-9]+$ ]] || die 2 "--lines must be a number (got $lines)"
max_age_s=''
if [ -n "$max_age" ]; then
  [[ "$max_age" =~ ^([0-9]+)([smhdw])$ ]] || die 2 "--max-age must look like 30m, 12h, 2d or 1w (got $max_age)"
  n=${BASH_REMATCH[1]}
  case ${BASH_REMATCH[2]} in s) f=1 ;; m) f=60 ;; h) f=3600 ;; d) f=86400 ;; w) f=604800 ;; esac
  max_age_s=$((n * f))
  [ "$max_age_s" -gt 0 ] || die 2 '--max-age must be positive'
fi
[ -f "$config" ] || die 4 "config file not found: $config"

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
if [ -z "$respaldo" ]; then
  if command -v respaldo >/dev/null 2>&1; then respaldo=respaldo
  elif [ -f "$script_dir/../bin/respaldo.js" ] && command -v node >/dev/null 2>&1; then respaldo="node $script_dir/../bin/respaldo.js"
  else die 4 'cannot find respaldo: install it or pass --respaldo CMD'; fi
fi
command -v node >/dev/null 2>&1 || die 4 'node is needed to read the status'

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck disable=SC2086
if ! $respaldo status --json --config "$config" > "$tmp/status.json" 2> "$tmp/status.err"; then
  cat "$tmp/status.err" >&2
  die 4 "\`respaldo status --config $config\` failed"
fi
# shellcheck disable=SC2086
$respaldo schedule --json --config "$config" > "$tmp/schedule.json" 2>/dev/null || echo '{"jobs":[]}' > "$tmp/schedule.json"

# Everything else is read and judged by one small node program (JSON in, report out).
MAX_AGE_S="$max_age_s" LINES="$lines" UNIT="$name" NEED_SERVICE="$need_service" \
HAVE_SYSTEMD="$( [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1 && echo 1 || echo 0 )" \
node --input-type=module - "$tmp/status.json" "$tmp/schedule.json" <<'EOF'
import { readFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { hostname } from 'node:os';

const [statusFile, scheduleFile] = process.argv.slice(2);
const status = JSON.parse(readFileSync(statusFile, 'utf8'));
const schedule = JSON.parse(readFileSync(scheduleFile, 'utf8'));
const env = process.env;
const fmtAge = (s) => s === null ? 'never' : s < 5400 ? `${Math.round(s / 60)} min` : s < 172800 ? `${(s / 3600).toFixed(1)} h` : `${(s / 86400).toFixed(1)} days`;
const out = (l = '') => process.stdout.write(l + '\n');

// 1. Is the scheduler running? Its lock (backupDir/.scheduler/.respaldo.lock) names its pid.
let running = false;
let how = '';
const lockFile = join(status.backupDir, '.scheduler', '.respaldo.lock');
if (existsSync(lockFile)) {
  try {
    const lock = JSON.parse(readFileSync(lockFile, 'utf8'));
    let alive = false;
    try { process.kill(lock.pid, 0); alive = true; } catch (e) { alive = e.code === 'EPERM'; }
    // A pid of the new boot after a power cut is not the scheduler: `respaldo status` judges its lock (boot id, start).
    const said = status.scheduler && status.scheduler.scheduler;
    if (alive && said && said.gone && said.pid === lock.pid) alive = false;
    if (lock.host !== hostname()) { running = true; how = `pid ${lock.pid} on ${lock.host} (other host, not checked)`; }
    else if (alive) { running = true; how = `pid ${lock.pid} since ${lock.startedAt}`; }
    else how = `stale lock of pid ${lock.pid} (not running)`;
  } catch { how = 'unreadable scheduler lock'; }
}
if (env.HAVE_SYSTEMD === '1') {
  let state = 'unknown';
  try { state = execFileSync('systemctl', ['is-active', `${env.UNIT}.service`], { encoding: 'utf8' }).trim(); } catch (e) { state = String(e.stdout || 'inactive').trim(); }
  how += `${how ? '; ' : ''}systemd ${env.UNIT}.service: ${state}`;
}
out(`Scheduler: ${running ? 'RUNNING' : 'NOT RUNNING'}${how ? ` (${how})` : ''}`);
for (const j of schedule.jobs ?? []) {
  const s = j.state;
  out(`  job ${j.name} (${j.when}): next ${j.nextRuns?.[0] ?? 'never'}; last ${s?.lastRun ? `${s.lastRun} ${s.lastOutcome ?? 'unfinished'}${s.lastError ? ` - ${s.lastError}` : ''}` : 'never run'}`);
}

// 2. Last log lines.
const logDir = join(status.backupDir, 'logs');
const n = Number(env.LINES);
if (n > 0) {
  const files = existsSync(logDir) ? readdirSync(logDir).filter((f) => /^backup_\d{4}-\d{2}-\d{2}\.log$/.test(f)).sort() : [];
  out('');
  out(files.length ? `Last ${n} log lines (${join(logDir, files.at(-1))}):` : `No log files in ${logDir}.`);
  let shown = [];
  for (let i = files.length - 1; i >= 0 && shown.length < n; i--) {
    const ls = readFileSync(join(logDir, files[i]), 'utf8').split('\n').filter(Boolean);
    shown = [...ls.slice(-(n - shown.length)), ...shown];
  }
  for (const l of shown) {
    try {
      const e = JSON.parse(l);
      const extra = ['job', 'setId', 'outcome', 'status', 'bytes', 'durationMs', 'error', 'message'].filter((k) => e[k] !== undefined && e[k] !== null).map((k) => `${k}=${typeof e[k] === 'object' ? JSON.stringify(e[k]) : e[k]}`);
      out(`  ${e.time} ${e.event} ${extra.join(' ')}`);
    } catch { out(`  ${l}`); }
  }
}

// 3. Newest set per database and its age against the allowed age.
const allowedFor = (db) => {
  if (env.MAX_AGE_S) return { s: Number(env.MAX_AGE_S), why: 'given --max-age' };
  let best = null;
  for (const j of schedule.jobs ?? []) {
    if (j.type === 'verify' || !(j.databasesResolved ?? []).includes(db) || (j.nextRuns ?? []).length < 2) continue;
    const period = (Date.parse(j.nextRuns[1]) - Date.parse(j.nextRuns[0])) / 1000;
    const allowed = period + Math.max(3600, period / 4);
    if (!best || allowed < best.s) best = { s: allowed, why: `job ${j.name}` };
  }
  return best ?? { s: 26 * 3600, why: 'no job covers it; default 26 h' };
};
let overdue = 0;
out('');
out('Newest backup per database:');
for (const d of status.newestPerDatabase ?? []) {
  const allowed = allowedFor(d.database);
  const late = d.ageSeconds === null || d.ageSeconds > allowed.s;
  if (late) overdue++;
  out(`  ${late ? 'OVERDUE' : 'ok     '} ${d.database.padEnd(16)} ${d.setId ?? 'no set'}  age ${fmtAge(d.ageSeconds)}  (allowed ${fmtAge(allowed.s)}, ${allowed.why})`);
}
out('');
if (overdue) {
  out(`PROBLEM: ${overdue} database(s) overdue${running ? '' : ', and the scheduler is not running'}.`);
  process.exit(1);
}
if (!running && env.NEED_SERVICE === '1') {
  out('PROBLEM: backups are recent, but the scheduler is not running.');
  process.exit(3);
}
out('OK: every database has a recent backup.');
EOF
