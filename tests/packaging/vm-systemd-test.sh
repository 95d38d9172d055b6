#!/usr/bin/env bash
# kmonitord.service under systemd as PID 1: Type=notify, Restart=, the watchdog, a clean stop, in
# CUSE and in FUSE mode. Runs in the VM of tests/vm booted into systemd, with the daemon published
# on the host (publishing under emulation is far too slow) and installed here by install.sh:
#   tests/vm/run.sh --systemd -- env PUBLISH_DIR=DIR tests/packaging/vm-systemd-test.sh
# Ends with "N passed, M failed"; exits 1 if anything failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tests/packaging/systemd-lib.sh
. tests/packaging/systemd-lib.sh
unit=kmonitord.service
dropins=/etc/systemd/system/$unit.d

[ "$(ps -p 1 -o comm=)" = systemd ] || { echo "vm-systemd-test: PID 1 is not systemd (use tests/vm/run.sh --systemd)" >&2; exit 1; }
[ -n "${PUBLISH_DIR:-}" ] || { echo "vm-systemd-test: set PUBLISH_DIR to a published kmonitord" >&2; exit 1; }
[ ! -e /usr/local/sbin/kmonitord ] || { echo "vm-systemd-test: kmonitord is already installed here; this test wants a clean root" >&2; exit 1; }

echo "== install (packaging/install.sh) under systemd $(systemctl --version | sed -n '1s/systemd \([0-9]*\).*/\1/p')"
check "install.sh installs and reloads systemd" env PUBLISH_DIR="$PUBLISH_DIR" bash packaging/install.sh
check "systemd knows the unit" sh -c "systemctl cat $unit >/dev/null"
check "the unit is Type=notify" test "$(systemctl show -p Type --value $unit)" = notify

# Each mode: start (it must answer at once), SIGKILL (restarted, answers again), stop (nothing left).
exercise() { # MODE
  local mode=$1 pid before
  echo "== $mode mode"
  check "$mode: systemctl start succeeds" systemctl start $unit
  # No waiting here: with Type=notify, start returns after READY=1, which the daemon sends only
  # once the device can be opened (the counter-check above shows that this can fail).
  check "$mode: /dev/kmonitor answers an ioctl as soon as start returns" answers
  if [ "$mode" = cuse ]; then
    check "cuse: /dev/kmonitor is a character device" test -c /dev/kmonitor
    check "cuse: udev gave it root:kmonitor 0660" test "$(stat -c '%U:%G %a' /dev/kmonitor)" = "root:kmonitor 660"
  else
    check "fuse: /dev/kmonitor is a link into /run/kmonitor" test "$(readlink /dev/kmonitor)" = /run/kmonitor/kmonitor/device
  fi
  check "$mode: kmonitord status reports $mode mode" sh -c "kmonitord status | grep -q '$mode mode'"
  check "$mode: the service is active" is_active $unit
  # (systemd reports WatchdogUSec=0 for a unit that has not started yet, so it is checked here.)
  check "$mode: the running daemon has the unit's 30 s watchdog" test "$(systemctl show -p WatchdogUSec --value $unit)" = 30s

  pid=$(main_pid $unit) before=$(restarts $unit)
  kill -KILL "$pid"
  check "$mode: after SIGKILL systemd starts a new main process (Restart=on-failure)" wait_for 120 restarted_from $unit "$pid"
  check "$mode: NRestarts went up by one" test "$(restarts $unit)" = $((before + 1))
  check "$mode: the restarted daemon answers" answers

  check "$mode: systemctl stop succeeds" systemctl stop $unit
  check "$mode: the daemon exited 0 on SIGTERM" sh -c "[ \"\$(systemctl show -p Result --value $unit)\" = success ] && [ \"\$(systemctl show -p ExecMainStatus --value $unit)\" = 0 ]"
  check "$mode: stop leaves no device, link, mount, /run/kmonitor entry or process" leaves_nothing
}

# The counter-check: without Type=notify, start returns before the daemon is ready, and the
# check below fails. (The .NET runtime takes seconds to start under emulation, python3 far less.)
mkdir -p "$dropins"
printf '[Service]\nType=simple\nWatchdogSec=0\n' >"$dropins/50-test-simple.conf"
systemctl daemon-reload
systemctl start $unit
check "with Type=simple, start returns before /dev/kmonitor answers" not_answering
systemctl stop $unit
rm -f "$dropins/50-test-simple.conf"
systemctl daemon-reload

exercise cuse

# The watchdog: a stopped process sends no WATCHDOG=1. At WatchdogSec systemd sends SIGABRT, then
# SIGKILL after TimeoutAbortSec=, and Restart=on-failure starts it again. 10 s instead of
# the unit's 30 s only to keep the test short. LimitCORE=0: the aborting runtime would otherwise
# write a core of hundreds of MB into the VM's memory.
echo "== watchdog"
mkdir -p "$dropins"
printf '[Service]\nWatchdogSec=10s\nLimitCORE=0\n' >"$dropins/50-test-watchdog.conf"
systemctl daemon-reload
check "watchdog: start with WatchdogSec=10s" systemctl start $unit
pid=$(main_pid $unit) before=$(restarts $unit)
kill -STOP "$pid"
check "watchdog: systemd kills the stopped daemon and starts a new one" wait_for 150 restarted_from $unit "$pid"
check "watchdog: the journal names the watchdog" sh -c "journalctl --no-pager -o cat -u $unit | grep -q 'Watchdog timeout'"
check "watchdog: systemd ended the service with result 'watchdog'" sh -c "journalctl --no-pager -o cat -u $unit | grep -q \"Failed with result 'watchdog'\""
# Seen here (systemd 252): systemd sends SIGABRT, the stopped daemon does not die of it, and
# TimeoutAbortSec= (by default TimeoutStopSec=, 30 s) later it sends SIGKILL. So SIGSTOP proves
# systemd's side (missing pings -> kill -> restart), not that SIGABRT alone ends a wedged daemon.
# What systemd said from the watchdog to the restart, for the log either way.
journalctl --no-pager -o cat -u $unit | sed -n '/Watchdog timeout/,/Scheduled restart/p' | sed 's/^/   | /'
check "watchdog: NRestarts went up by one" test "$(restarts $unit)" = $((before + 1))
check "watchdog: the restarted daemon answers" answers
systemctl stop $unit
check "watchdog: stop leaves nothing" leaves_nothing
rm -f "$dropins/50-test-watchdog.conf"

# FUSE mode through a drop-in, as kmonitord(8) says settings are given to the unit.
printf '[Service]\nEnvironment=KMONITORD_MODE=fuse\n' >"$dropins/50-test-fuse.conf"
systemctl daemon-reload
exercise fuse
rm -rf "$dropins"
systemctl daemon-reload

echo "== systemd-analyze security $unit"
systemd-analyze security --no-pager $unit 2>&1 | sed 's/^/   /'

echo "== uninstall"
if [ "$failed" != 0 ]; then echo "   the service's journal:"; journal_of $unit 40; fi
check "uninstall.sh uninstalls" bash /usr/local/lib/kmonitord/uninstall.sh
check "systemd no longer knows the unit" sh -c "! systemctl cat $unit >/dev/null 2>&1"
check "nothing is left running or mounted" leaves_nothing

summary
