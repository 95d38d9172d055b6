#!/usr/bin/env bash
# The Debian package under systemd as PID 1: install, upgrade, purge. Runs in the VM of tests/vm
# booted into systemd, with two packages built on the host by packaging/deb/build.sh, the second
# with a higher version:
#   tests/vm/run.sh --systemd -- env DEB=kmonitord_1_amd64.deb DEB_NEXT=kmonitord_2_amd64.deb \
#     tests/packaging/vm-deb-test.sh
# Ends with "N passed, M failed"; exits 1 if anything failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tests/packaging/systemd-lib.sh
. tests/packaging/systemd-lib.sh
unit=kmonitord.service

[ "$(ps -p 1 -o comm=)" = systemd ] || { echo "vm-deb-test: PID 1 is not systemd (use tests/vm/run.sh --systemd)" >&2; exit 1; }
[ -f "${DEB:-}" ] && [ -f "${DEB_NEXT:-}" ] || { echo "vm-deb-test: set DEB and DEB_NEXT to two kmonitord packages" >&2; exit 1; }
! dpkg -s kmonitord >/dev/null 2>&1 || { echo "vm-deb-test: kmonitord is already installed here; this test wants a clean root" >&2; exit 1; }
DEB=$(realpath "$DEB") DEB_NEXT=$(realpath "$DEB_NEXT")
version() { dpkg-deb -f "$1" Version; }

# The places the package or its scripts write to, listed before and after (paths, not contents:
# /etc/group changes and changes back). dpkg's and apt's own records and logs are left out; that
# dpkg forgot the package is checked on its own.
snapshot() {
  { find /usr/sbin /usr/bin /usr/lib/kmonitord /usr/lib/modules-load.d /lib/systemd/system /lib/udev/rules.d \
      /usr/include/linux /usr/share/man/man1 /usr/share/man/man4 /usr/share/man/man8 /etc /var/lib \
      -xdev 2>/dev/null | grep -Ev '^/var/lib/(dpkg|apt)(/|$)|^/etc/(group|gshadow|passwd|shadow)-$|^/etc/ld\.so\.cache$'
    find /usr/share/doc -maxdepth 1
  } | sort
}
snapshot >/tmp/before

# apt resolves the package's dependencies (libc6, passwd) from what is installed: no network.
echo "== apt install ./$(basename "$DEB")"
check "apt installs the package offline" sh -c "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-download -q '$DEB' >/tmp/apt.log 2>&1 || { cat /tmp/apt.log; false; }"
check "dpkg has it at version $(version "$DEB")" test "$(dpkg-query -W -f='${Status} ${Version}' kmonitord)" = "install ok installed $(version "$DEB")"
check "the kmonitor group exists" getent group kmonitor
check "the unit is enabled" test "$(systemctl is-enabled $unit)" = enabled
check "postinst started the service" is_active $unit
check "/dev/kmonitor answers" answers
check "the CUSE device is root:kmonitor 0660" test "$(stat -c '%U:%G %a' /dev/kmonitor)" = "root:kmonitor 660"
check "kmonitor (the command) reports cuse mode" sh -c 'kmonitor status | grep -q "cuse mode"'
check "man finds kmonitord(8)" test "$(man -w 8 kmonitord 2>/dev/null)" = /usr/share/man/man8/kmonitord.8.gz
check "the header is installed" test -f /usr/include/linux/kmonitor.h
check "the modules-load file and udev rule are installed" test -f /usr/lib/modules-load.d/kmonitor.conf -a -f /lib/udev/rules.d/99-kmonitor.rules

echo "== upgrade to $(version "$DEB_NEXT")"
pid=$(main_pid $unit)
check "apt installs the newer package" sh -c "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-download -q '$DEB_NEXT' >/tmp/apt.log 2>&1 || { cat /tmp/apt.log; false; }"
check "dpkg has it at version $(version "$DEB_NEXT")" test "$(dpkg-query -W -f='${Version}' kmonitord)" = "$(version "$DEB_NEXT")"
check "the upgrade restarted the daemon (a new main pid)" restarted_from $unit "$pid"
check "the restarted daemon answers" answers

echo "== apt purge kmonitord"
check "apt purges the package" sh -c "DEBIAN_FRONTEND=noninteractive apt-get purge -y -q kmonitord >/tmp/apt.log 2>&1 || { cat /tmp/apt.log; false; }"
check "dpkg no longer knows it" sh -c "! dpkg -s kmonitord >/dev/null 2>&1"
check "the daemon is gone and left nothing behind" leaves_nothing
check "systemd no longer knows the unit" sh -c "[ \"\$(systemctl show -p LoadState --value $unit)\" = not-found ]"
check "the kmonitor group is gone" sh -c '! getent group kmonitor'
snapshot >/tmp/after
check "purge leaves the file system as it was" diff /tmp/before /tmp/after

summary
