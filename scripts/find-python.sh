#!/usr/bin/env bash
# Print the path of a Python of the given minor version (default 3.13): python3.X on PATH
# if it runs, else a pyenv build of it. Prints nothing and exits 1 when there is none.
set -uo pipefail
want=${1:-3.13}
for candidate in "python$want" "$HOME"/.pyenv/versions/"$want"*/bin/"python$want" "/usr/local/bin/python$want" "/usr/bin/python$want"; do
  path=$(command -v "$candidate" 2>/dev/null) || continue
  if "$path" -c "import sys; sys.exit(0 if '%d.%d' % sys.version_info[:2] == '$want' else 1)" 2>/dev/null; then
    echo "$path"
    exit 0
  fi
done
exit 1
