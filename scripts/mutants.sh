#!/usr/bin/env bash
# Guard mutants (issue 20): disables each guard listed in a mutants.txt in turn, in a scratch
# copy, and checks that a test fails. Usage: scripts/mutants.sh [--only NAME]... [--list]
set -euo pipefail
exec python3 "$(dirname "$0")/mutants.py" "$@"
