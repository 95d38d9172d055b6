# tests/packaging/systemd-lib.sh - shared by the tests that run under systemd as PID 1 in the VM
# (tests/vm/run.sh --systemd). Sourced, not run.
# shellcheck shell=bash

passed=0 failed=0
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then
    passed=$((passed + 1)); echo "ok   $what"
  else
    failed=$((failed + 1)); echo "FAIL $what"
  fi
}
summary() { echo "$passed passed, $failed failed"; [ "$failed" = 0 ]; }

# wait_for SECONDS COMMAND...: polls COMMAND every 0.2 s until it succeeds; fails at the deadline.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}

# answers [DEVICE]: the daemon answers ioctls on the device: REGISTER and DEREGISTER of this
# process's own exit (struct kmonitor_cmd, KMONITOR_PROCESS_EXIT, signal 35). Python, because the
# check must not depend on the kmonitor command under test.
answers() {
  python3 - "${1:-/dev/kmonitor}" <<'EOF'
import fcntl, os, struct, sys
try:
    fd = os.open(sys.argv[1], os.O_RDWR)
    cmd = struct.pack("=iii", os.getpid(), 0x40, 35)
    fcntl.ioctl(fd, 0x400CDE01, cmd)  # KMONITOR_IOW_REGISTER
    fcntl.ioctl(fd, 0x400CDE02, cmd)  # KMONITOR_IOW_DEREGISTER
    os.close(fd)
except OSError as e:
    print(f"   {sys.argv[1]}: {e}")
    sys.exit(1)
EOF
}

not_answering() { ! answers "$@" >/dev/null; }

main_pid() { systemctl show -p MainPID --value "$1"; }
restarts() { systemctl show -p NRestarts --value "$1"; }
is_active() { [ "$(systemctl is-active "$1")" = active ]; }
# A new main process is up and the service is active again.
restarted_from() { # UNIT OLD-PID
  local pid
  pid=$(main_pid "$1")
  [ "$pid" != 0 ] && [ "$pid" != "$2" ] && is_active "$1"
}

# leaves_nothing: after a stop, no device, no link, no mount, nothing in /run/kmonitor, no daemon.
leaves_nothing() {
  local ok=0
  if [ -e /dev/kmonitor ] || [ -L /dev/kmonitor ]; then echo "   /dev/kmonitor is still there"; ok=1; fi
  # (Field 5 is the mount point; the VM's own control share is /run/kmonitor-vm.)
  if awk '$5 ~ "^/run/kmonitor(/|$)" { found = 1 } END { exit !found }' /proc/self/mountinfo; then
    echo "   a kmonitor mount is left:"; grep ' /run/kmonitor[/ ]' /proc/self/mountinfo | sed 's/^/     /'; ok=1
  fi
  if [ -d /run/kmonitor ] && [ -n "$(ls -A /run/kmonitor)" ]; then echo "   left in /run/kmonitor: $(ls -A /run/kmonitor)"; ok=1; fi
  if pgrep -x kmonitord >/dev/null; then echo "   a kmonitord process is left: $(pgrep -a -x kmonitord)"; ok=1; fi
  return $ok
}

# Everything the service said, for the log of a failed check.
journal_of() { journalctl --no-pager -o cat -u "$1" | tail -n "${2:-20}" | sed 's/^/   | /'; }
