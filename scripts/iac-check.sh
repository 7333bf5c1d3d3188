#!/usr/bin/env bash
# Package every deployed stage offline and lint each CloudFormation template:
# cfn-lint (with the cfn-lint-serverless rules) and checkov. Exits non-zero on any finding.
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

  echo "== $stage: topology"
  "$venv/bin/python" - "$template" <<'PY' || failed=1
import json, sys

template = json.load(open(sys.argv[1]))
resources = template["Resources"]
problems = []

# The catch-all route reaches the monolith through its Live alias.
route = resources.get("HttpApiRouteDefault", {}).get("Properties", {})
if route.get("RouteKey") != "$default":
    problems.append("no $default route")
integration_id = route.get("Target", {}).get("Fn::Join", ["", ["", {}]])[1][1].get("Ref")
uri = resources.get(integration_id, {}).get("Properties", {}).get("IntegrationUri")
if '{"Ref": "MonolithLambdaFunctionAliasLive"}' not in json.dumps(uri):
    problems.append(f"$default route integration does not target monolith:Live: {uri}")

# The connection budget is checked by scripts/migration_status.py (make migration-status).

for name, r in resources.items():
    props = r.get("Properties", {})
    if r["Type"] == "AWS::Lambda::Function":
        for key in ("VpcConfig", "TracingConfig", "LoggingConfig", "Role"):
            if key not in props:
                problems.append(f"{name}: no {key}")
    if r["Type"] == "AWS::Logs::LogGroup" and "RetentionInDays" not in props:
        problems.append(f"{name}: no RetentionInDays")

for p in problems:
    print(f"topology: {p}")
print(f"topology: {len(problems)} problem(s)")
sys.exit(1 if problems else 0)
PY
done

exit $failed
