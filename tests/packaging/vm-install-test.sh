#!/usr/bin/env bash
# A real install, start, stop and uninstall of kmonitord, meant to run inside the VM of tests/vm
# (a throw-away root over the host's, with a kernel that has CUSE). The daemon is published on the
# host first (publishing under emulation is far too slow) and passed in as PUBLISH_DIR.
#   tests/vm/run.sh -- env PUBLISH_DIR=DIR tests/packaging/vm-install-test.sh
# Ends with "N passed, M failed"; exits 1 if anything failed.
set -uo pipefail
cd "$(dirname "$0")/../.."

passed=0 failed=0
check() { # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $what" >&2; fi
}

[ -n "${PUBLISH_DIR:-}" ] || { echo "vm-install-test: set PUBLISH_DIR to a published kmonitord" >&2; exit 1; }
[ ! -e /usr/local/sbin/kmonitord ] || { echo "vm-install-test: kmonitord is already installed here; this test wants a clean root" >&2; exit 1; }

check "install.sh installs" env PUBLISH_DIR="$PUBLISH_DIR" bash packaging/install.sh
check "the program is on PATH" test -x /usr/local/sbin/kmonitord
check "the command is on PATH" test -x /usr/local/bin/kmonitor
check "the unit is installed" test -f /usr/local/lib/systemd/system/kmonitord.service
check "the udev rule is installed" test -f /etc/udev/rules.d/99-kmonitor.rules
check "the header is installed" test -f /usr/local/include/linux/kmonitor.h
check "the kmonitor group exists" getent group kmonitor

log=$(mktemp)
/usr/local/sbin/kmonitord 2>"$log" &
daemon=$!
for _ in $(seq 600); do [ -e /dev/kmonitor ] && break; sleep 0.2; done
check "the installed daemon serves /dev/kmonitor as a CUSE character device" test -c /dev/kmonitor
check "it owns the device as root:kmonitor 0660" test "$(stat -c '%U:%G %a' /dev/kmonitor)" = "root:kmonitor 660"
check "kmonitord status reports cuse mode" sh -c '/usr/local/sbin/kmonitord status | grep -q "cuse mode"'
check "kmonitor status reports cuse mode" sh -c '/usr/local/bin/kmonitor status | grep -q "cuse mode"'
check "kmonitor run follows a command on the CUSE device" sh -c '/usr/local/bin/kmonitor run -- sh -c "exit 3" | grep -q "exit sh exited 3"; test $? -eq 0'
kill -TERM "$daemon"
wait "$daemon"
check "it stops with exit 0 on SIGTERM" test $? -eq 0
check "stopping removes the device" test ! -e /dev/kmonitor
grep -q "stopped;" "$log" || { echo "daemon log:" >&2; cat "$log" >&2; }
rm -f "$log"

check "uninstall.sh uninstalls" bash /usr/local/lib/kmonitord/uninstall.sh
check "the program is gone" test ! -e /usr/local/sbin/kmonitord
check "the command is gone" test ! -e /usr/local/bin/kmonitor
check "the library directory is gone" test ! -e /usr/local/lib/kmonitord
check "the unit is gone" test ! -e /usr/local/lib/systemd/system/kmonitord.service
check "the udev rule is gone" test ! -e /etc/udev/rules.d/99-kmonitor.rules

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
