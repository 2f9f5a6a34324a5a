#!/usr/bin/env bash
# First run on a fresh machine: build, create the demo SQLite databases, back them up, list the sets.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/cli/main.js ] && [ dist/cli/main.js -nt package.json ] || npm run build --silent
node scripts/demo-data.mjs data
node bin/respaldo.js create --description "first demo backup"
node bin/respaldo.js list
