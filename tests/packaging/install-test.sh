#!/usr/bin/env bash
# tests/packaging/install-test.sh - tests packaging/install.sh and packaging/uninstall.sh.
#
# Run as root from anywhere. It never touches the real system: every installation goes into a
# temporary DESTDIR. It builds the daemon once (`dotnet publish`, network only to the NuGet
# registry) and reuses that output, through PUBLISH_DIR, for the other installs.
#   1. install into a fresh DESTDIR: every expected file is there, executable where it should
#      be, and listed in the manifest; the installed `kmonitord --help` exits 0 (also with an
#      empty environment, as under systemd), and so does `kmonitor --help`, the command; the unit passes `systemd-analyze verify`; the
#      header compiles; the man pages are found and render without warnings;
#   2. reinstall over it: same manifest, nothing left behind; then uninstall: the DESTDIR is
#      empty again;
#   3. configuration: an edited kmonitord.json survives a reinstall and the uninstall; files in
#      /etc that were there before install are never touched;
#   4. other PREFIXes: /usr puts the unit in /usr/lib/systemd/system, /opt/... in /etc/systemd;
#   5. errors: not root, no dotnet, a foreign file in the way, uninstall without a manifest.
# Ends with the line "N passed, M failed"; exits 1 if anything failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
top=$PWD
install_sh=$top/packaging/install.sh
uninstall_sh=$top/packaging/uninstall.sh

if [ "$(id -u)" != 0 ]; then
  echo "install-test.sh: run it as root (it checks the root-only paths of the scripts)" >&2
  exit 1
fi
command -v dotnet >/dev/null || { echo "install-test.sh: dotnet is missing (the .NET 10 SDK builds the daemon)" >&2; exit 1; }

passed=0 failed=0
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() {
  local what=$1
  shift
  if "$@"; then pass; else fail "$what"; fi
}

work=$(mktemp -d "${TMPDIR:-/tmp}/kmonitord-install-test.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
log=$work/log

# Everything install.sh puts into a DESTDIR with the default PREFIX (the manifest included).
expected_files=(
  usr/local/lib/kmonitord/kmonitord
  usr/local/lib/kmonitord/kmonitord.dll
  usr/local/lib/kmonitord/kmonitord.deps.json
  usr/local/lib/kmonitord/kmonitord.runtimeconfig.json
  usr/local/lib/kmonitord/Kmonitor.Core.dll
  usr/local/lib/kmonitord/kmonitor
  usr/local/lib/kmonitord/kmonitor.dll
  usr/local/lib/kmonitord/kmonitor.deps.json
  usr/local/lib/kmonitord/kmonitor.runtimeconfig.json
  usr/local/lib/kmonitord/Kmonitor.Client.dll
  usr/local/lib/kmonitord/System.CommandLine.dll
  usr/local/lib/kmonitord/install-manifest
  usr/local/lib/kmonitord/uninstall.sh
  usr/local/lib/systemd/system/kmonitord.service
  usr/local/include/linux/kmonitor.h
  usr/local/share/man/man8/kmonitord.8
  usr/local/share/man/man4/kmonitor.4
  usr/local/share/man/man1/kmonitor.1
  usr/local/share/doc/kmonitord/cuse-only-hardening.conf
  etc/udev/rules.d/99-kmonitor.rules
  etc/modules-load.d/kmonitor.conf
  etc/kmonitor/kmonitord.json
)
expected_executables=(
  usr/local/lib/kmonitord/kmonitord
  usr/local/lib/kmonitord/uninstall.sh
  usr/local/sbin/kmonitord
  usr/local/lib/kmonitord/kmonitor
  usr/local/bin/kmonitor
)

empty_tree() { [ -z "$(find "$1" -mindepth 1 -print -quit)" ]; }
# The set of paths the manifest lists, without DESTDIR, sorted.
manifest_paths() { grep -v '^#' "$1/usr/local/lib/kmonitord/install-manifest" | cut -f3 | sort; }
# The set of paths in the tree, as absolute paths inside it, without the manifest itself.
tree_paths() { (cd "$1" && find . -mindepth 1 ! -path ./usr/local/lib/kmonitord/install-manifest | sed 's|^\.||' | sort); }
# one_line_with FILE TEXT: the file is a single line containing TEXT (a clear one-line error).
one_line_with() { grep -q -- "$2" "$1" && [ "$(wc -l <"$1")" = 1 ]; }
renders_clean() { [ -z "$(groff -man -Tutf8 -ww "$1" 2>&1 >/dev/null)" ]; }
header_compiles() { # DESTDIR
  printf '#include <linux/kmonitor.h>\nint main(void) { struct kmonitor_cmd c = { 1, KMONITOR_PROCESS_EXIT, 35 }; return (int)(KMONITOR_IOW_REGISTER != 0x400CDE01u) + (c.pid != 1); }\n' >"$work/h.c"
  cc -std=c11 -Wall -Werror -I"$1/usr/local/include" -o "$work/h" "$work/h.c" && "$work/h"
}

group_before=$(getent group kmonitor || true)

# ---- 1. a fresh install ------------------------------------------------------------------------
d1=$work/d1
echo "== install into an empty DESTDIR (dotnet publish)"
if DESTDIR=$d1 "$install_sh" >"$log" 2>&1; then pass; else fail "install.sh into $d1 exited $?"; cat "$log"; fi
grep -E 'publish|ReadyToRun|installed' "$log" | sed 's/^/   /'

for f in "${expected_files[@]}"; do
  check "installed file $f" test -f "$d1/$f"
done
for f in "${expected_executables[@]}"; do
  check "executable $f" test -x "$d1/$f"
done
check "usr/local/sbin/kmonitord is a relative link to the apphost" \
  test "$(readlink "$d1/usr/local/sbin/kmonitord")" = ../lib/kmonitord/kmonitord
check "usr/local/bin/kmonitor is a relative link to the command's apphost" \
  test "$(readlink "$d1/usr/local/bin/kmonitor")" = ../lib/kmonitord/kmonitor
check "manifest lists exactly what is in the tree" \
  diff <(manifest_paths "$d1") <(tree_paths "$d1")
check "no group was created with DESTDIR" test "$(getent group kmonitor || true)" = "$group_before"
check "the udev rule and modules-load file are the packaged ones" \
  cmp -s "$top/udev/99-kmonitor.rules" "$d1/etc/udev/rules.d/99-kmonitor.rules"
check "the modules-load file loads cuse" cmp -s "$top/udev/kmonitor.conf" "$d1/etc/modules-load.d/kmonitor.conf"
check "the unit starts /usr/local/sbin/kmonitord" grep -qx 'ExecStart=/usr/local/sbin/kmonitord' "$d1/usr/local/lib/systemd/system/kmonitord.service"
check "the unit is Type=notify" grep -qx 'Type=notify' "$d1/usr/local/lib/systemd/system/kmonitord.service"

config_ok() {
  local f=$1 key
  for key in mode name buffer_length receive_buffer group mode_bits major minor log_level policy max_per_file max_per_uid; do
    grep -q "\"$key\":" "$f" || { echo "   no key $key in $f"; return 1; }
  done
  if command -v python3 >/dev/null; then python3 -m json.tool "$f" >/dev/null; fi
}
check "the default configuration has every key and is valid JSON" config_ok "$d1/etc/kmonitor/kmonitord.json"

out=$work/help.out
if "$d1/usr/local/sbin/kmonitord" --help >"$out" 2>&1; then pass; else fail "installed kmonitord --help exited $?"; cat "$out"; fi
check "kmonitord --help prints the usage" grep -q '^usage: kmonitord' "$out"
if env -i "$d1/usr/local/sbin/kmonitord" --help >"$out" 2>&1; then pass; else fail "kmonitord --help with an empty environment (as systemd starts it) exited $?"; cat "$out"; fi
if "$d1/usr/local/bin/kmonitor" --help >"$out" 2>&1; then pass; else fail "installed kmonitor --help exited $?"; cat "$out"; fi
check "kmonitor --help lists the commands and examples" sh -c "grep -q '^  watch ' '$out' && grep -q '^Examples:' '$out'"
missing_device=$work/no-such-device
if "$d1/usr/local/bin/kmonitor" --device "$missing_device" watch >"$out" 2>&1; then
  fail "installed kmonitor watch on a missing device succeeded"
else
  check "installed kmonitor: one line when there is no device" one_line_with "$out" "is kmonitord running?"
fi

if command -v systemd-analyze >/dev/null; then
  # verify checks that ExecStart= and ExecStopPost= exist: point them at the staged binary;
  # MANPATH finds the man pages named in Documentation=.
  mkdir -p "$work/unit"
  sed "s|^ExecStart=/usr/local/sbin/kmonitord|ExecStart=$d1/usr/local/sbin/kmonitord|; s|^ExecStopPost=/usr/local/sbin/kmonitord|ExecStopPost=$d1/usr/local/sbin/kmonitord|" \
    "$d1/usr/local/lib/systemd/system/kmonitord.service" >"$work/unit/kmonitord.service"
  if MANPATH=$d1/usr/local/share/man systemd-analyze verify "$work/unit/kmonitord.service" >"$out" 2>&1 && [ ! -s "$out" ]; then
    pass
  else
    fail "systemd-analyze verify kmonitord.service:"; cat "$out"
  fi
else
  echo "   (systemd-analyze not installed: unit not verified)"
fi
if command -v cc >/dev/null; then
  check "the installed header compiles with the right ioctl number" header_compiles "$d1"
fi
if command -v man >/dev/null && command -v groff >/dev/null; then
  check "man finds kmonitord(8)" test "$(MANPATH=$d1/usr/local/share/man man -w 8 kmonitord)" = "$d1/usr/local/share/man/man8/kmonitord.8"
  check "man finds kmonitor(4)" test "$(MANPATH=$d1/usr/local/share/man man -w 4 kmonitor)" = "$d1/usr/local/share/man/man4/kmonitor.4"
  check "man finds kmonitor(1)" test "$(MANPATH=$d1/usr/local/share/man man -w 1 kmonitor)" = "$d1/usr/local/share/man/man1/kmonitor.1"
  for page in man8/kmonitord.8 man4/kmonitor.4 man1/kmonitor.1; do
    check "$page renders without groff warnings" renders_clean "$d1/usr/local/share/man/$page"
  done
fi

# The published daemon, for the other installs (PUBLISH_DIR skips the manifest and uninstall.sh).
pub=$work/published
cp -a "$d1/usr/local/lib/kmonitord" "$pub"

# ---- 2. reinstall, then uninstall ---------------------------------------------------------------
echo "== reinstall over it, then uninstall"
manifest_paths "$d1" >"$work/paths.before"
if DESTDIR=$d1 PUBLISH_DIR=$pub "$install_sh" >"$log" 2>&1; then pass; else fail "reinstall exited $?"; cat "$log"; fi
check "a reinstall records the same paths" diff "$work/paths.before" <(manifest_paths "$d1")
check "after a reinstall the manifest still lists exactly the tree" diff <(manifest_paths "$d1") <(tree_paths "$d1")
if DESTDIR=$d1 "$uninstall_sh" >"$log" 2>&1; then pass; else fail "uninstall.sh exited $?"; cat "$log"; fi
check "uninstall leaves the DESTDIR empty" empty_tree "$d1"
find "$d1" -mindepth 1 | sed 's/^/   left: /' | head -20

# ---- 3. configuration is the administrator's --------------------------------------------------
echo "== edited and pre-existing configuration"
d2=$work/d2
DESTDIR=$d2 PUBLISH_DIR=$pub "$install_sh" >"$log" 2>&1 || { fail "install into $d2"; cat "$log"; }
echo '{ "log_level": "debug" }' >"$d2/etc/kmonitor/kmonitord.json"
DESTDIR=$d2 PUBLISH_DIR=$pub "$install_sh" >"$log" 2>&1 || { fail "reinstall into $d2"; cat "$log"; }
check "a reinstall keeps the edited kmonitord.json" grep -q '"debug"' "$d2/etc/kmonitor/kmonitord.json"
# The installed copy of uninstall.sh works too.
if DESTDIR=$d2 "$d2/usr/local/lib/kmonitord/uninstall.sh" >"$log" 2>&1; then pass; else fail "installed uninstall.sh exited $?"; cat "$log"; fi
check "uninstall keeps the edited kmonitord.json" grep -q '"debug"' "$d2/etc/kmonitor/kmonitord.json"
check "uninstall says it kept it" grep -q "keeping $d2/etc/kmonitor/kmonitord.json" "$log"
check "uninstall removes everything else" \
  test "$(cd "$d2" && find . -mindepth 1 | sort | tr '\n' ' ')" = "./etc ./etc/kmonitor ./etc/kmonitor/kmonitord.json "

d3=$work/d3
mkdir -p "$d3/etc/kmonitor" "$d3/etc/udev/rules.d"
echo '{ "mode": "fuse" }' >"$d3/etc/kmonitor/kmonitord.json"
echo 'SUBSYSTEM=="cuse", KERNEL=="kmonitor", GROUP="wheel", MODE="0640"' >"$d3/etc/udev/rules.d/99-kmonitor.rules"
cp -a "$d3/etc" "$work/etc.before"
DESTDIR=$d3 PUBLISH_DIR=$pub "$install_sh" >"$log" 2>&1 || { fail "install into $d3"; cat "$log"; }
check "install leaves an existing kmonitord.json alone" cmp -s "$work/etc.before/kmonitor/kmonitord.json" "$d3/etc/kmonitor/kmonitord.json"
check "install leaves an existing udev rule alone" cmp -s "$work/etc.before/udev/rules.d/99-kmonitor.rules" "$d3/etc/udev/rules.d/99-kmonitor.rules"
check "install says it kept the administrator's udev rule" grep -q "keeping $d3/etc/udev/rules.d/99-kmonitor.rules" "$log"
DESTDIR=$d3 "$uninstall_sh" >"$log" 2>&1 || { fail "uninstall from $d3"; cat "$log"; }
check "uninstall leaves only what was there before" diff -r "$work/etc.before" "$d3/etc"
check "uninstall leaves nothing under usr" test ! -e "$d3/usr"

# ---- 4. other prefixes ---------------------------------------------------------------------------
echo "== PREFIX=/usr and PREFIX=/opt/kmonitord"
d4=$work/d4
DESTDIR=$d4 PREFIX=/usr PUBLISH_DIR=$pub "$install_sh" >"$log" 2>&1 || { fail "install with PREFIX=/usr"; cat "$log"; }
check "PREFIX=/usr: unit in /usr/lib/systemd/system" test -f "$d4/usr/lib/systemd/system/kmonitord.service"
check "PREFIX=/usr: ExecStart=/usr/sbin/kmonitord" grep -qx 'ExecStart=/usr/sbin/kmonitord' "$d4/usr/lib/systemd/system/kmonitord.service"
check "PREFIX=/usr: /usr/sbin/kmonitord --help" "$d4/usr/sbin/kmonitord" --help >/dev/null
check "PREFIX=/usr: /usr/bin/kmonitor --help" "$d4/usr/bin/kmonitor" --help >/dev/null
DESTDIR=$d4 PREFIX=/usr "$uninstall_sh" >"$log" 2>&1 || { fail "uninstall with PREFIX=/usr"; cat "$log"; }
check "PREFIX=/usr: uninstall leaves the DESTDIR empty" empty_tree "$d4"
d5=$work/d5
DESTDIR=$d5 PREFIX=/opt/kmonitord PUBLISH_DIR=$pub "$install_sh" >"$log" 2>&1 || { fail "install with PREFIX=/opt/kmonitord"; cat "$log"; }
check "PREFIX=/opt/kmonitord: unit in /etc/systemd/system" test -f "$d5/etc/systemd/system/kmonitord.service"
check "PREFIX=/opt/kmonitord: ExecStart=/opt/kmonitord/sbin/kmonitord" grep -qx 'ExecStart=/opt/kmonitord/sbin/kmonitord' "$d5/etc/systemd/system/kmonitord.service"
DESTDIR=$d5 PREFIX=/opt/kmonitord "$uninstall_sh" >"$log" 2>&1 || { fail "uninstall with PREFIX=/opt/kmonitord"; cat "$log"; }
check "PREFIX=/opt/kmonitord: uninstall leaves the DESTDIR empty" empty_tree "$d5"

# ---- 5. errors: one clear line and a non-zero exit ----------------------------------------------
echo "== errors"
# Not root, no DESTDIR: a copy of the script nobody can read, checked before anything else.
mkdir -m 0755 "$work/nobody"
cp "$install_sh" "$uninstall_sh" "$work/nobody/"
chmod 0755 "$work" "$work/nobody/install.sh" "$work/nobody/uninstall.sh"
for script in install.sh uninstall.sh; do
  if setpriv --reuid=65534 --regid=65534 --clear-groups "$work/nobody/$script" >"$log" 2>&1; then
    fail "$script as a non-root user without DESTDIR succeeded"
  else
    check "$script as non-root: one line saying root is needed" one_line_with "$log" "must run as root"
  fi
done
# No dotnet on PATH: every other tool is there.
mkdir "$work/bin"
for tool in /usr/bin/* /bin/*; do
  name=${tool##*/}
  if [ "$name" != dotnet ] && [ ! -e "$work/bin/$name" ]; then ln -s "$tool" "$work/bin/$name"; fi
done
if DESTDIR=$work/d6 PATH=$work/bin "$install_sh" >"$log" 2>&1; then
  fail "install.sh without dotnet succeeded"
else
  check "install.sh without dotnet: one line naming dotnet" one_line_with "$log" "dotnet is missing"
fi
# A file of someone else's where install wants to put the link.
d7=$work/d7
mkdir -p "$d7/usr/local/sbin"
echo '#!/bin/sh' >"$d7/usr/local/sbin/kmonitord"
if DESTDIR=$d7 PUBLISH_DIR=$pub "$install_sh" >"$log" 2>&1; then
  fail "install.sh overwrote a foreign /usr/local/sbin/kmonitord"
else
  check "install.sh refuses to overwrite a foreign file, naming it" grep -q "usr/local/sbin/kmonitord exists and was not installed by this script" "$log"
  check "the foreign file is untouched" test "$(cat "$d7/usr/local/sbin/kmonitord")" = '#!/bin/sh'
  check "install.sh wrote nothing before refusing" test ! -e "$d7/usr/local/lib"
fi
if DESTDIR=$d1 "$uninstall_sh" >"$log" 2>&1; then
  fail "uninstall.sh without a manifest succeeded"
else
  check "uninstall.sh without a manifest: one line saying so" one_line_with "$log" "no install manifest"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
