#!/usr/bin/env bash
# Makes (or refreshes) the virtualenv the tests use, outside the clone, and prints its path.
# Needs a Python >= 3.10. pip runs only when the pinned list below changed since the last install.
# Usage: venv="$(scripts/test-venv.sh)"
set -euo pipefail
venv="${LAKEFLOW_VENV:-$HOME/.cache/lakeflow-rs/venv}"

# The versions the data source is tested with (python/pyproject.toml, extra `test`): pyspark 4.3.0
# is the first release with SupportsTriggerAvailableNow and Arrow batches from Python data
# sources; `pipelines` brings what pyspark.pipelines imports. moto's server is the S3 endpoint
# the object-store warehouse tests write to.
requirements=("pyspark[pipelines]==4.3.0" "pandas<3" "pyarrow>=18" "pytest>=8" "maturin>=1.9.4,<2"
  "moto[server]==5.2.6")

if [ ! -x "$venv/bin/python" ]; then
  "${PYTHON:-python3}" -m venv "$venv" >&2
fi
stamp="$venv/.lakeflow-requirements"
if [ "$(cat "$stamp" 2>/dev/null)" != "${requirements[*]}" ]; then
  "$venv/bin/pip" install --quiet --upgrade pip >&2
  "$venv/bin/pip" install --quiet "${requirements[@]}" >&2
  printf '%s' "${requirements[*]}" >"$stamp"
fi
echo "$venv"
