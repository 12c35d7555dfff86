#!/bin/sh
# Installs the pinned validators of tools/validators (package-lock.json) with
# `npm ci`, only when node_modules is missing or older than the lockfile.
# Run by `make test` (target `validators`); needs Node.js >= 20.19 and npm,
# which tools/deps.sh installs from Debian when missing. npm ci takes about
# 20 s and 70 MB once per machine; node_modules is ignored by git.
set -eu
D=$(cd "$(dirname "$0")" && pwd)
stamp="$D/node_modules/.package-lock.json"
if [ -f "$stamp" ] && [ -x "$D/node_modules/.bin/redocly" ] &&
	[ -z "$(find "$D/package-lock.json" -newer "$stamp")" ]; then
	exit 0
fi
command -v npm >/dev/null 2>&1 || {
	echo "validators: npm is missing (run: make deps)" >&2
	exit 2
}
echo "validators: npm ci in tools/validators (once per machine)" >&2
cd "$D"
# --ignore-scripts: no package here needs an install script, and none runs.
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >&2
touch "$stamp"
