#!/usr/bin/env bash
# Installs `respaldo scheduler` as a service: a systemd unit running as a given user with restart
# on failure, or (without systemd, or with --cron) the crontab line that keeps it running.
#
#   sudo scripts/install-service.sh --config /srv/app/backup_config.json --user backup
#   scripts/install-service.sh --config ./backup_config.json --user backup --print   # only print the unit
#   scripts/install-service.sh --config ./backup_config.json --user backup --cron    # print the crontab line
#
# Options:
#   --config FILE     backup_config.json to use (required; made absolute)
#   --user USER       account the scheduler runs as (required; must be able to read the config and
#                     the databases and write the backup folder)
#   --name NAME       unit name (default respaldo-scheduler) -> NAME.service
#   --respaldo CMD    how to run respaldo (default: `respaldo` on PATH, run by the node on PATH; else that node +
#                     this repository's bin/respaldo.js)
#   --unit-dir DIR    where to write the unit (default /etc/systemd/system)
#   --print           print the unit on stdout and change nothing
#   --cron            print the crontab line instead of a systemd unit
#   --no-enable       write the unit but do not run systemctl (prints the commands to run)
#   --no-check        do not check first that the config loads (`respaldo schedule`)
# Exit codes: 0 ok, 2 bad usage (or --name is the unit of another config), 3 the config does not load, 4 cannot write or enable the unit.
set -euo pipefail

die() { local code=$1; shift; printf 'install-service: %s\n' "$*" >&2; exit "$code"; }
usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; }

config='' user='' name='respaldo-scheduler' respaldo='' unit_dir='/etc/systemd/system'
print_only=0 cron=0 enable=1 check=1 unit_dir_given=0
while [ $# -gt 0 ]; do
  case "$1" in
    --config) [ $# -ge 2 ] || die 2 '--config needs a file'; config=$2; shift 2 ;;
    --user) [ $# -ge 2 ] || die 2 '--user needs a name'; user=$2; shift 2 ;;
    --name) [ $# -ge 2 ] || die 2 '--name needs a value'; name=$2; shift 2 ;;
    --respaldo) [ $# -ge 2 ] || die 2 '--respaldo needs a command'; respaldo=$2; shift 2 ;;
    --unit-dir) [ $# -ge 2 ] || die 2 '--unit-dir needs a folder'; unit_dir=$2; unit_dir_given=1; shift 2 ;;
    --print) print_only=1; shift ;;
    --cron) cron=1; shift ;;
    --no-enable) enable=0; shift ;;
    --no-check) check=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die 2 "unknown argument: $1" ;;
  esac
done

[ -n "$config" ] || die 2 '--config FILE is required'
[ -n "$user" ] || die 2 '--user USER is required (the account the scheduler runs as)'
[[ "$name" =~ ^[A-Za-z0-9_.@-]+$ ]] || die 2 "--name \"$name\" is not a valid unit name"
[[ "$user" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$ ]] || die 2 "--user \"$user\" is not a valid user name"
[ -f "$config" ] || die 2 "config file not found: $config"
config=$(cd "$(dirname "$config")" && pwd -P)/$(basename "$config")
config_dir=$(dirname "$config")
id -u "$user" >/dev/null 2>&1 || die 2 "no such user: $user (create it first, e.g. useradd --system $user)"

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
if [ -z "$respaldo" ]; then
  if command -v respaldo >/dev/null 2>&1; then
    respaldo=$(command -v respaldo)
    # npm's `respaldo` is a script run by `#!/usr/bin/env node`: under cron's PATH (/usr/bin:/bin) or systemd's that
    # finds no node (a Node unpacked in /opt and put first on PATH, as README says), or another one whose ABI the
    # native modules were not built for. The service runs the node found here, the one respaldo was installed with.
    if head -n 1 "$respaldo" 2>/dev/null | grep -q '^#!.*[/ ]env  *node' && command -v node >/dev/null 2>&1; then
      respaldo="$(command -v node) $(readlink -f "$respaldo")"
    fi
  elif [ -f "$script_dir/../bin/respaldo.js" ] && command -v node >/dev/null 2>&1; then
    respaldo="$(command -v node) $(cd "$script_dir/.." && pwd -P)/bin/respaldo.js"
  else
    die 2 'cannot find respaldo: install it (npm install -g) or pass --respaldo CMD'
  fi
fi

# systemd unit lines: quote arguments that contain spaces; a % (a specifier to systemd) is doubled.
sd_quote() { case "$1" in *[[:space:]\"\\]*) printf '"%s"' "$(printf '%s' "$1" | sed 's/[\\"]/\\&/g; s/%/%%/g')" ;; *) printf '%s' "${1//\%/%%}" ;; esac; }
# A path setting (WorkingDirectory=) is never unquoted by systemd: a quoted one is "not absolute" and the unit is refused.
sd_path() { printf '%s' "${1//\%/%%}"; }
sh_quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

if [ "$check" = 1 ]; then
  # Load the config the way the service will: as the service user when we can switch to it.
  as_user=()
  if [ "$(id -u)" = 0 ] && [ "$user" != root ] && command -v runuser >/dev/null 2>&1; then as_user=(runuser -u "$user" --); fi
  # shellcheck disable=SC2086
  if ! out=$("${as_user[@]}" $respaldo schedule --config "$config" 2>&1); then
    printf '%s\n' "$out" >&2
    die 3 "the config does not load with \`respaldo schedule --config $config\`${as_user:+ as $user}; fix it first (or pass --no-check)"
  fi
fi

exec_start=''
for word in $respaldo; do exec_start+="$(sd_quote "$word") "; done
exec_start+="scheduler --config $(sd_quote "$config")"

unit="[Unit]
Description=respaldo scheduled backups ($config)
Wants=network-online.target
After=network-online.target postgresql.service mssql-server.service

[Service]
Type=simple
User=$user
WorkingDirectory=$(sd_path "$config_dir")
ExecStart=$exec_start
# SIGTERM to the scheduler only: it finishes the running backup, then exits 0.
KillMode=mixed
KillSignal=SIGTERM
TimeoutStopSec=30min
Restart=on-failure
RestartSec=30s
UMask=0077
NoNewPrivileges=yes
PrivateTmp=yes

[Install]
WantedBy=multi-user.target"

have_systemd=0
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then have_systemd=1; fi

if [ "$print_only" = 1 ] && [ "$cron" = 0 ]; then
  printf '%s\n' "$unit"
  exit 0
fi

# Without systemd, print the crontab line, unless asked to write the unit anyway (--unit-dir / --no-enable).
if [ "$cron" = 1 ] || { [ "$have_systemd" = 0 ] && [ "$unit_dir_given" = 0 ] && [ "$enable" = 1 ]; }; then
  [ "$cron" = 1 ] || echo "systemd is not running here; use cron instead." >&2
  # The lock is this config's own, beside it: one in /tmp named after the unit was shared by every config on the
  # machine (a second application's scheduler never started while the first ran) and open to other users there.
  lock="$config_dir/.$(basename "$config").cron.lock"
  cmd="$respaldo scheduler --if-not-running --config $(sh_quote "$config")"
  out="$(sh_quote "$config_dir/$name.out")"
  if command -v flock >/dev/null 2>&1; then
    line="* * * * * flock -n $(sh_quote "$lock") $cmd >> $out 2>&1"
  else
    line="* * * * * $cmd >> $out 2>&1"
  fi
  echo "# Add this line to the crontab of $user (crontab -u $user -e). Every minute it starts the scheduler" >&2
  echo "# if it is not running (flock, and the scheduler's own lock, keep it to one instance)." >&2
  printf '%s\n' "$line"
  exit 0
fi

unit_file="$unit_dir/$name.service"
# Another config's unit under this name is another application's backups: never replaced without a word.
if [ -e "$unit_file" ] && ! grep -qxF "Description=respaldo scheduled backups ($config)" "$unit_file" 2>/dev/null; then
  other=$(sed -n 's/^Description=respaldo scheduled backups (\(.*\))$/\1/p' "$unit_file" 2>/dev/null | head -n 1)
  runs='something else'
  [ -z "$other" ] || runs="the scheduler of another config ($other)"
  die 2 "$unit_file already exists and runs $runs: it was left as it is. Install this one beside it with --name (e.g. --name $name-$(basename "$config_dir")), or remove that unit first."
fi
mkdir -p "$unit_dir" 2>/dev/null || die 4 "cannot create $unit_dir (run as root, e.g. with sudo)"
tmp="$unit_dir/.$name.service.$$"
if ! printf '%s\n' "$unit" > "$tmp" 2>/dev/null; then rm -f "$tmp"; die 4 "cannot write $unit_file (run as root, e.g. with sudo)"; fi
chmod 0644 "$tmp"
sync "$tmp" 2>/dev/null || true
mv -f "$tmp" "$unit_file"
echo "Wrote $unit_file"

if [ "$enable" = 0 ] || [ "$have_systemd" = 0 ]; then
  echo "To start it now and at every boot:"
  echo "  systemctl daemon-reload && systemctl enable --now $name.service"
  exit 0
fi
systemctl daemon-reload || die 4 'systemctl daemon-reload failed'
systemctl enable --now "$name.service" || die 4 "systemctl enable --now $name.service failed (see: journalctl -u $name.service)"
systemctl --no-pager --lines=5 status "$name.service" || true
echo "Installed and started $name.service (logs: journalctl -u $name.service, and the backup folder's logs/)."
echo "Check it with: $script_dir/check-service.sh --config $config --name $name"
