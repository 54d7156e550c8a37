#!/bin/sh
# The shipped systemd units (docs/operating.md, The units), checked without root or installing:
# systemd-analyze's own exposure score of each (--offline) must stay at or under 1.5, so dropping
# NoNewPrivileges, a capability, ProtectSystem=strict or running as root fails; each role runs as
# its own user veil-ROLE and hides the other roles' state directories.
# Usage: units_test.sh PACKAGING_DIR      (ctest: package_units; skipped (77) without systemd-analyze)
set -u
dir=$1/systemd
command -v systemd-analyze >/dev/null || { echo "no systemd-analyze"; exit 77; }
rc=0
for role in node directory client; do
  unit=$dir/veil-$role.service
  out=$(systemd-analyze security --offline=true --threshold=15 "$unit" 2>&1) ||
    { echo "$out" | tail -1; echo "veil-$role.service: exposure above 1.5"; rc=1; }
  grep -qx "User=veil-$role" "$unit" || { echo "veil-$role.service: not User=veil-$role"; rc=1; }
  for other in node directory client; do
    [ "$other" = "$role" ] && continue
    grep -q "^InaccessiblePaths=.*-/var/lib/veil/$other\b" "$unit" ||
      { echo "veil-$role.service: /var/lib/veil/$other is not inaccessible"; rc=1; }
  done
done
[ $rc = 0 ] && echo "units: ok"
exit $rc
