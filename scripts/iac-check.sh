#!/usr/bin/env bash
# Package every deployed stage offline and lint each CloudFormation template:
# cfn-lint (with the cfn-lint-serverless rules) and checkov. Exits non-zero on any finding.
# What the topology must be (routes, aliases, the proxy, roles, logs) is checked once, by
# the tests on the packaged templates (tests/integration/packaging/test_templates.py and its neighbours).
#
# Needs: node_modules (npm ci), .venv with requirements-dev.txt + cfn-lint, and checkov in
# .venv-iac (its pins clash with ours). No AWS credentials and no network are used.
# Packaging: scripts/package-stage.sh (a throwaway copy of the service, no credentials).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
stages=(${IAC_STAGES:-dev staging prod})
venv="$root/.venv"
iac_venv="${IAC_VENV:-$root/.venv-iac}"

for tool in "$venv/bin/python3.13" "$venv/bin/cfn-lint" "$iac_venv/bin/checkov" "$root/node_modules/.bin/sls"; do
  [ -x "$tool" ] || { echo "iac-check: missing $tool" >&2; exit 2; }
done

failed=0
for stage in "${stages[@]}"; do
  out=$root/.serverless-$stage
  rm -rf "$out"
  echo "== $stage: package"
  if ! bash "$root/scripts/package-stage.sh" "$stage" "$out"; then
    failed=1
    continue
  fi
  template=$out/cloudformation-template-update-stack.json

  echo "== $stage: cfn-lint"
  # Informational findings count too (--include-checks I).
  "$venv/bin/cfn-lint" --append-rules cfn_lint_serverless.rules --include-checks I -- "$template" || failed=1

  echo "== $stage: checkov"
  # --skip-download and the two variables keep checkov off the network (no policy
  # metadata download, no PyPI update check).
  BC_SKIP_MAPPING=TRUE CKV_SKIP_PACKAGE_UPDATE_CHECK=true \
    "$iac_venv/bin/checkov" --quiet --compact --skip-download --framework cloudformation -f "$template" || failed=1
done

exit $failed
