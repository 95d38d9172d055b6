#!/usr/bin/env bash
# Monitors survive restarts of kmonitord.service (issue 15, part 1, the handover through systemd's
# file descriptor store; README "Restarts and upgrades"), with the unit as installed (the handover
# is on by default). Part 4 of tests/run. Runs in the VM of tests/vm booted into systemd, with the
# daemon published on the host and the legacy C samples built there (make -C src/Samples/legacy OUT=DIR):
#   tests/vm/run.sh --systemd -- env PUBLISH_DIR=DIR SAMPLES=DIR tests/packaging/vm-handover-test.sh
#
# For each mode (cuse, then fuse through a drop-in) and each way down (`systemctl restart`;
# SIGKILL of the main process and Restart=on-failure; a wedged daemon (SIGSTOP) that the watchdog
# has killed after WatchdogSec= and TimeoutStopSec=):
#   - a victim process (sleep) runs inside a tree: root (`sh`, then exec'd `sleep`) -> `sleep`;
#   - wait_on_pid (the 2004 C example: one REGISTER for the exit, then sigsuspend) waits on the
#     victim, and `kmonitor watch --tree` follows the tree and prints records;
#   - the daemon goes down; the unit's ExecStartPre= (a test drop-in) kills the victim while no
#     daemon runs, so its exit happens while the device has nobody serving it;
#   - expected once the new instance is active: wait_on_pid exits 0 (it was notified of an exit
#     that happened while the daemon was down), `kmonitor watch` is still running and printed the
#     victim's exit, and still reports a process forked in the tree after the restart; neither
#     printed an error (ENOTCONN, ENODEV).
# MONITORS=signals leaves out `kmonitor watch --tree`, to tell the two kinds of monitor apart when
# one fails; MONITORS=all (the default, what tests/run runs) runs both.
# Ends with "N passed, M failed"; exits 1 if anything failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tests/packaging/systemd-lib.sh
. tests/packaging/systemd-lib.sh
unit=kmonitord.service
dropins=/etc/systemd/system/$unit.d
ctl=/run/kmonitor-handover-test

monitors=${MONITORS:-all}
[ "$(ps -p 1 -o comm=)" = systemd ] || { echo "vm-handover-test: PID 1 is not systemd (use tests/vm/run.sh --systemd)" >&2; exit 1; }
[ -n "${PUBLISH_DIR:-}" ] && [ -x "${SAMPLES:-}/wait_on_pid" ] \
  || { echo "vm-handover-test: set PUBLISH_DIR to a published kmonitord and SAMPLES to the built legacy samples" >&2; exit 1; }
[ ! -e /usr/local/sbin/kmonitord ] || { echo "vm-handover-test: kmonitord is already installed here; this test wants a clean root" >&2; exit 1; }

env PUBLISH_DIR="$PUBLISH_DIR" bash packaging/install.sh >/dev/null || { echo "vm-handover-test: install.sh failed" >&2; exit 1; }
mkdir -p "$dropins" "$ctl"
# Kill the victim between two instances: ExecStartPre= runs after the old main process is gone
# and before the new one starts. The file exists only while a test step wants it.
cat >"$dropins/50-test-handover.conf" <<EOF
[Service]
ExecStartPre=/bin/sh -c 'if [ -f $ctl/victim ]; then kill -TERM "\$(cat $ctl/victim)"; rm -f $ctl/victim; fi'
EOF
systemctl daemon-reload

step() { # MODE HOW (restart or kill)
  local mode=$1 how=$2 root victim waiter watcher pid log=$ctl/watch.log what="$1, $2" since
  since=$(date +%s)
  # The tree's root outlives the victim (exec: the same pid, now a sleep), so its own exit after
  # the restart shows that the subscription still follows the tree.
  sh -c 'sleep 1000 & echo $! >'"$ctl"'/tree-child; exec sleep 2000' &
  root=$!
  wait_for 30 test -s "$ctl/tree-child"
  victim=$(cat "$ctl/tree-child")
  rm -f "$ctl/tree-child"
  "$SAMPLES/wait_on_pid" "$victim" &
  waiter=$!
  local subscriptions=0
  if [ "$monitors" = all ]; then
    kmonitor watch --tree "$root" >"$log" 2>&1 &
    watcher=$!
    subscriptions=1
  fi
  # The monitors are in place: wait_on_pid's registration and kmonitor watch's subscription.
  check "$what: the monitors are registered" wait_for 60 sh -c \
    "kmonitord status | awk '/^registrations/ { r = \$2 } /^subscriptions/ { s = \$2 } END { exit !(r >= 1 && s >= $subscriptions) }'"
  echo "$victim" >"$ctl/victim"
  pid=$(main_pid $unit)
  case $how in
    restart) systemctl restart $unit ;;
    kill) kill -KILL "$pid" ;;
    watchdog) kill -STOP "$pid" ;; # no WATCHDOG=1 any more: SIGABRT at WatchdogSec=, SIGKILL after TimeoutStopSec=
  esac
  check "$what: the service is back with a new main process" wait_for 150 restarted_from $unit "$pid"
  # The victim's parent (the root, a sleep) never reaps it: dead is a zombie or gone.
  check "$what: the victim died while the daemon was down" sh -c "! ps -o stat= -p $victim | grep -qv '^Z'"
  check "$what: wait_on_pid was notified of that exit (exit 0)" wait_for 60 sh -c "! kill -0 $waiter 2>/dev/null"
  kill "$waiter" 2>/dev/null # still waiting (the check above failed): ended here, so the step goes on
  wait "$waiter"
  check "$what: wait_on_pid exited 0" test $? = 0
  check "$what: the device answers after the restart" answers
  journalctl -u $unit --no-pager --since "@$since" -o short-precise | cut -d' ' -f3- | sed 's/^/   journal| /'
  if [ "$monitors" != all ]; then
    kill "$root" 2>/dev/null || true
    return
  fi
  check "$what: kmonitor watch printed the victim's exit" wait_for 30 grep -Eq " exit +$victim " "$log"
  check "$what: kmonitor watch is still running" kill -0 "$watcher"
  kill "$root" 2>/dev/null || true # an exit inside the tree, after the restart
  check "$what: kmonitor watch still reports the tree after the restart" wait_for 30 grep -Eq " exit +$root " "$log"
  check "$what: kmonitor watch printed no error" sh -c "! grep -Eiq 'error|ENOTCONN|ENODEV|not connected' '$log'"
  kill "$watcher" 2>/dev/null
  wait "$watcher" 2>/dev/null
  sed 's/^/   | /' "$log" | tail -n 8
}

for mode in cuse fuse; do
  echo "== $mode mode"
  if [ $mode = fuse ]; then
    printf '[Service]\nEnvironment=KMONITORD_MODE=fuse\n' >"$dropins/50-test-fuse.conf"
    systemctl daemon-reload
  fi
  check "$mode: start" systemctl start $unit
  step $mode restart
  step $mode kill
  step $mode watchdog
  systemctl stop $unit
  check "$mode: stop leaves nothing" leaves_nothing
done

rm -rf "$dropins" "$ctl"
systemctl daemon-reload
bash /usr/local/lib/kmonitord/uninstall.sh >/dev/null
summary
