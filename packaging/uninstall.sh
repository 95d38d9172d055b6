#!/usr/bin/env bash
# packaging/uninstall.sh - remove what packaging/install.sh installed, and nothing else.
#
#   [DESTDIR=/stage] [PREFIX=/usr/local] packaging/uninstall.sh
#
# Also installed as PREFIX/lib/kmonitord/uninstall.sh, so it works without the source tree.
# It reads PREFIX/lib/kmonitord/install-manifest (under DESTDIR), and with the same DESTDIR and
# PREFIX as the install:
#   - stops and disables kmonitord.service first (no DESTDIR, systemd running);
#   - removes every file and the link the manifest lists;
#   - removes configuration files in /etc (kmonitord.json, the udev rule, the modules-load file)
#     only if they are unchanged since they were installed. An edited configuration is kept and
#     named, so a later install finds it;
#   - removes the directories install created, if they are empty by then;
#   - deletes the kmonitor group only if install created it (no DESTDIR).
set -euo pipefail

prog=uninstall.sh
die() { echo "$prog: $*" >&2; exit 1; }
note() { echo "$prog: $*"; }

DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr/local}
case $PREFIX in
  /*) ;;
  *) die "PREFIX must be an absolute path, not '$PREFIX'" ;;
esac
PREFIX=${PREFIX%/}
if [ -n "$DESTDIR" ]; then
  [ -d "$DESTDIR" ] || die "DESTDIR $DESTDIR does not exist"
  DESTDIR=$(cd "$DESTDIR" && pwd)
  [ "$DESTDIR" != / ] || DESTDIR=
fi
if [ -z "$DESTDIR" ] && [ "$(id -u)" != 0 ]; then
  die "must run as root to uninstall from / (or set DESTDIR for a staged installation)"
fi
command -v sha256sum >/dev/null || die "'sha256sum' is missing (coreutils)"

manifest=$PREFIX/lib/kmonitord/install-manifest
[ -f "$DESTDIR$manifest" ] \
  || die "no install manifest at $DESTDIR$manifest: nothing was installed with PREFIX=$PREFIX${DESTDIR:+ and DESTDIR=$DESTDIR}"

entries=()
while IFS=$'\t' read -r kind field path; do
  case $kind in
    dir | file | conf | link | group) entries+=("$kind"$'\t'"$field"$'\t'"$path") ;;
    '' | \#*) ;;
    *) die "unexpected line in $DESTDIR$manifest: $kind" ;;
  esac
done <"$DESTDIR$manifest"

# A running daemon keeps its mount and device; stop it before its files go.
if [ -z "$DESTDIR" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
  if systemctl cat kmonitord.service >/dev/null 2>&1; then
    systemctl disable --now kmonitord.service >/dev/null 2>&1 \
      || note "could not stop and disable kmonitord.service; continuing"
  fi
fi

sum() { sha256sum -- "$1" | cut -d' ' -f1; }
kept=0
dirs=()
group=
for entry in "${entries[@]}"; do
  IFS=$'\t' read -r kind field path <<<"$entry"
  target=$DESTDIR$path
  case $kind in
    file)
      rm -f -- "$target"
      ;;
    link)
      # Only if it is still the link we made.
      if [ -L "$target" ] && [ "$(readlink -- "$target")" = "$field" ]; then
        rm -f -- "$target"
      elif [ -e "$target" ] || [ -L "$target" ]; then
        note "keeping $target: it is no longer the link install.sh made"
        kept=$((kept + 1))
      fi
      ;;
    conf)
      if [ -f "$target" ] && [ ! -L "$target" ] && [ "$(sum "$target")" = "$field" ]; then
        rm -f -- "$target"
      elif [ -e "$target" ] || [ -L "$target" ]; then
        note "keeping $target: it was changed since it was installed"
        kept=$((kept + 1))
      fi
      ;;
    dir) dirs+=("$path") ;;
    group) group=$path ;;
  esac
done
rm -f -- "$DESTDIR$manifest"

# Deepest first (a child's path is longer than its parent's); only empty ones go.
while IFS= read -r path; do
  [ -n "$path" ] || continue
  if [ -d "$DESTDIR$path" ] && ! rmdir -- "$DESTDIR$path" 2>/dev/null; then
    note "keeping $DESTDIR$path: it is not empty"
  fi
done <<<"$(for d in "${dirs[@]}"; do printf '%d\t%s\n' "${#d}" "$d"; done | sort -rn | cut -f2-)"

if [ -n "$group" ] && [ -z "$DESTDIR" ]; then
  if getent group "$group" >/dev/null; then
    members=$(getent group "$group" | cut -d: -f4)
    if groupdel "$group"; then
      note "deleted the group $group, which install.sh had created${members:+ (its members were: $members)}"
    else
      note "could not delete the group $group"
    fi
  fi
fi

if [ -z "$DESTDIR" ]; then
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    systemctl daemon-reload || note "systemctl daemon-reload failed"
  fi
  if [ -S /run/udev/control ] && command -v udevadm >/dev/null; then
    udevadm control --reload || note "udevadm control --reload failed"
  fi
fi

summary="removed kmonitord from ${DESTDIR:-/} (PREFIX=$PREFIX)"
[ "$kept" = 0 ] || summary="$summary; kept $kept changed file(s), listed above"
note "$summary"
