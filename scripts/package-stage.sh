#!/usr/bin/env bash
# Package one stage offline (no credentials): scripts/package-stage.sh STAGE OUTDIR
#
# Runs in a throwaway copy of the service: serverless-wsgi links the requirements into
# the service root while packaging, and a failed package leaves them there.
set -euo pipefail

stage=$1
out=$(realpath -m "$2")
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
copy=$work/service
mkdir -p "$copy"
for path in serverless.yml package.json requirements.txt alembic.ini app legacy migrations scripts; do
  [ -e "$root/$path" ] && cp -R "$root/$path" "$copy/"
done
find "$copy" -name __pycache__ -type d -prune -exec rm -rf {} +
ln -s "$root/node_modules" "$copy/node_modules"
ln -s "$root/.venv" "$copy/.venv"

# serverless-wsgi builds the requirements with the first python3.13 on PATH, which must
# import virtualenv: the project venv's.
export PATH="$venv/bin:$PATH"
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE

rm -rf "$out"
if ! (cd "$copy" && npx --no-install sls package --stage "$stage" --package "$out" >"$work/package.log" 2>&1); then
  cat "$work/package.log" >&2
  echo "package-stage: $stage: sls package failed" >&2
  exit 1
fi
