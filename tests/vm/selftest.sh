#!/usr/bin/env bash
# The guest commands below are single-quoted on purpose: the guest expands them.
# shellcheck disable=SC2016
# selftest.sh - checks that the VM harness gives the CUSE tests what they
# need: the Debian kernel, /dev/cuse, exit-status and output passing, the
# checkout at the same path, loopback networking, a writable pid_max and the
# process connector. Each check boots one VM (~4 s each). Run as root.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
run() { bash "$here/run.sh" --timeout 300 -- "$@"; }
passed=0 failed=0
check() { # check NAME EXPECTED-REGEX -- COMMAND...
  local name=$1 want=$2 out rc=0
  shift 3
  out=$(run "$@" 2>&1) || rc=$?
  if [ $rc = 0 ] && grep -Eq -- "$want" <<<"$out"; then
    echo "ok   $name"; passed=$((passed + 1))
  else
    echo "FAIL $name (exit $rc)"; printf '     | %s\n' "$out"; failed=$((failed + 1))
  fi
}

bash "$here/prepare.sh" 2>/dev/null

check "debian 6.1 kernel" '^6\.1\.[0-9]+-[0-9]+-amd64$' -- uname -r
check "/dev/cuse after modprobe" '^c[-rw]+ [0-9]+ root root 10, 203 ' -- \
  sh -c 'modprobe cuse && ls -l /dev/cuse'
check "checkout at the caller's cwd" "^$(pwd -P)\$" -- pwd
check "loopback tcp" '^got hi$' -- sh -c \
  'busybox nc -l -p 5555 >/tmp/got & sleep 1; echo hi | busybox nc 127.0.0.1 5555; wait; echo "got $(cat /tmp/got)"'
check "pid_max writable" '^pid_max=4096$' -- sh -c \
  'echo 4096 >/proc/sys/kernel/pid_max && echo "pid_max=$(cat /proc/sys/kernel/pid_max)"'
# The process connector: subscribe over NETLINK_CONNECTOR, fork, expect the
# fork event (PROC_EVENT_FORK = 1) for that child.
check "process connector" '^fork event ok$' -- python3 -c '
import os, socket, struct
s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 11)  # NETLINK_CONNECTOR
s.bind((os.getpid(), 1))                                      # CN_IDX_PROC
data = struct.pack("=I", 1)                                   # PROC_CN_MCAST_LISTEN
cn = struct.pack("=IIIIHH", 1, 1, 0, 0, len(data), 0) + data  # struct cn_msg
s.send(struct.pack("=IHHII", 16 + len(cn), 3, 0, 0, os.getpid()) + cn)
s.settimeout(20)
child = os.fork()
if child == 0:
    os._exit(0)
os.waitpid(child, 0)
while True:
    m = s.recv(4096)
    if struct.unpack_from("=I", m, 36)[0] == 1 and struct.unpack_from("=I", m, 60)[0] == child:
        print("fork event ok")
        break
'

# Exit status passing (checked by hand: check wants exit 0).
rc=0; run sh -c 'exit 3' || rc=$?
if [ $rc = 3 ]; then echo "ok   exit status 3 passed through"; passed=$((passed + 1))
else echo "FAIL exit status: got $rc, want 3"; failed=$((failed + 1)); fi

echo "$passed passed, $failed failed"
[ $failed = 0 ]
