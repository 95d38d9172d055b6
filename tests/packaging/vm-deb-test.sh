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
# apt-get's output goes into the log as it happens (it is the slow part under emulation).
apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -q "$@" 2>&1 | sed 's/^/   | /'; return "${PIPESTATUS[0]}"; }

# The places the package or its scripts write to, listed before and after (paths, not contents:
# /etc/group changes and changes back). dpkg's and apt's own records and logs are left out; that
# dpkg forgot the package is checked on its own. Two services that D-Bus starts because apt runs
# write there too: systemd-logind (apt's shutdown inhibitor lock) /var/lib/systemd/linger, and
# PackageKit (apt's hook tells it the package database changed) /var/lib/PackageKit.
snapshot() {
  { find /usr/sbin /usr/bin /usr/lib/kmonitord /usr/lib/modules-load.d /lib/systemd/system /lib/udev/rules.d \
      /usr/include/linux /usr/share/man/man1 /usr/share/man/man4 /usr/share/man/man8 /etc /var/lib \
      -xdev 2>/dev/null | grep -Ev '^/var/lib/(dpkg|apt|systemd/linger|PackageKit)(/|$)|^/etc/(group|gshadow|passwd|shadow)-$|^/etc/ld\.so\.cache$'
    find /usr/share/doc -maxdepth 1
  } | sort
}
# man-db's dpkg trigger would re-index every man page of the host's root over 9p, minutes under
# emulation; this file is man-db's own switch for that (debconf man-db/auto-update).
rm -f /var/lib/man-db/auto-update
# This machine's image forbids starting services in maintainer scripts (a policy-rc.d that exits
# 101, as container images have); deb-systemd-invoke obeys it. A Debian system has none.
if [ -e /usr/sbin/policy-rc.d ]; then
  echo "   (removing this image's /usr/sbin/policy-rc.d in the VM: $(tr '\n' ' ' </usr/sbin/policy-rc.d))"
  rm -f /usr/sbin/policy-rc.d
fi
snapshot >/tmp/before
# The VM's root is the host's, where an earlier install (or a test) may have made the group.
if getent group kmonitor >/dev/null; then group_before=yes; else group_before=no; fi

# apt resolves the package's dependencies (libc6, passwd) from what is installed: no network is
# needed. (apt-get --no-download refuses a local .deb: "Pathname to install is not absolute".)
echo "== apt install ./$(basename "$DEB")"
check "apt installs the package offline" apt_get install -y "$DEB"
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

echo "== upgrade to $(version "$DEB_NEXT"), with a monitor attached"
# kmonitor wait keeps its file open and its registration through the upgrade's restart (the
# handover); after it, the victim's death must still reach it: exit 143, killed by SIGTERM.
sleep 1000 &
victim=$!
kmonitor wait --timeout 300 "$victim" >/tmp/kmonitor-wait.log 2>&1 &
waiter=$!
check "kmonitor wait has registered" wait_for 60 sh -c "kmonitord status | awk '/^registrations/ { exit !(\$2 >= 1) }'"
pid=$(main_pid $unit)
check "apt installs the newer package" apt_get install -y "$DEB_NEXT"
check "dpkg has it at version $(version "$DEB_NEXT")" test "$(dpkg-query -W -f='${Version}' kmonitord)" = "$(version "$DEB_NEXT")"
check "the upgrade restarted the daemon (a new main pid)" restarted_from $unit "$pid"
check "the restarted daemon answers" answers
check "the new daemon took the monitor's file over" sh -c "journalctl -u $unit -o cat | grep -q 'took over 1 open files, 1 registrations'"
kill "$victim"
check "kmonitor wait, attached through the upgrade, was told of the exit" wait_for 60 sh -c "! kill -0 $waiter 2>/dev/null"
kill "$waiter" 2>/dev/null
wait "$waiter"
code=$?
check "kmonitor wait exited 143 (its process was killed by SIGTERM)" test "$code" = 143
sed 's/^/   | /' /tmp/kmonitor-wait.log
rm -f /tmp/kmonitor-wait.log

echo "== apt purge kmonitord"
check "apt purges the package" apt_get purge -y kmonitord
check "dpkg no longer knows it" sh -c "! dpkg -s kmonitord >/dev/null 2>&1"
check "the daemon is gone and left nothing behind" leaves_nothing
check "systemd no longer knows the unit" sh -c "[ \"\$(systemctl show -p LoadState --value $unit)\" = not-found ]"
if [ $group_before = no ]; then
  check "the kmonitor group postinst created is gone" sh -c '! getent group kmonitor'
else
  check "the kmonitor group, there before, is still there" getent group kmonitor
fi
snapshot >/tmp/after
check "purge leaves the file system as it was" diff /tmp/before /tmp/after

summary
