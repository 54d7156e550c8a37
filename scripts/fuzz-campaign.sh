#!/usr/bin/env bash
# Fuzz campaign (issue 20): every libFuzzer target of build-fuzz/ for SECONDS (default 600) from
# its seeds plus what earlier campaigns found; prints executions and coverage per target.
# Usage: scripts/fuzz-campaign.sh [SECONDS] [--jobs N] [--only SUBSTRING]
set -euo pipefail
exec python3 "$(dirname "$0")/fuzz_campaign.py" "$@"
