#!/usr/bin/env bash
# packaging/install.sh - publish kmonitord and the kmonitor command and install them into the
# standard places.
#
#   [DESTDIR=/stage] [PREFIX=/usr/local] packaging/install.sh
#
# What goes where (PREFIX defaults to /usr/local; /etc is always /etc, because the daemon reads
# /etc/kmonitor/kmonitord.json and udev and systemd-modules-load only read /etc, /run and /usr):
#   PREFIX/lib/kmonitord/            the published daemon (apphost `kmonitord` + assemblies) and
#                                    command (apphost `kmonitor` + its assemblies, published into
#                                    the same directory: each apphost has its own deps.json and
#                                    they share no assembly), install-manifest, uninstall.sh
#   PREFIX/sbin/kmonitord            relative symlink to the apphost (a small wrapper script if
#                                    the apphost cannot find the .NET runtime in a clean
#                                    environment, as under systemd)
#   PREFIX/bin/kmonitor              the same for the command, which users run (bin, not sbin)
#   UNITDIR/kmonitord.service        UNITDIR = PREFIX/lib/systemd/system for PREFIX /usr/local or
#                                    /usr (systemd searches both, after /etc/systemd/system, so
#                                    the admin's `systemctl edit` drop-ins and overrides in /etc
#                                    survive a reinstall); /etc/systemd/system for any other
#                                    PREFIX, which systemd would not search. Override with UNITDIR.
#   /etc/udev/rules.d/99-kmonitor.rules, /etc/modules-load.d/kmonitor.conf
#   /etc/kmonitor/kmonitord.json     the default configuration, only if there is none
#   PREFIX/include/linux/kmonitor.h  the header for legacy C tools
#   PREFIX/share/man/man8/kmonitord.8, PREFIX/share/man/man4/kmonitor.4,
#   PREFIX/share/man/man1/kmonitor.1
#   PREFIX/share/doc/kmonitord/cuse-only-hardening.conf   optional systemd drop-in
#   the `kmonitor` system group      groupadd --system, unless it exists; skipped with DESTDIR
#
# Everything installed is recorded in PREFIX/lib/kmonitord/install-manifest (the directories it
# had to create, each file with its SHA-256, the link, the group if it was created here).
# packaging/uninstall.sh (also installed as PREFIX/lib/kmonitord/uninstall.sh) removes exactly
# that. Files in /etc are configuration. On reinstall one is replaced only if it is unchanged
# since the last install. On uninstall one is removed only if unchanged, so an edited
# configuration is kept and reported. The group is removed only if this script created it.
#
# Building: `dotnet publish src/CuseDevice -c Release`, then `dotnet publish src/Command` with the
# same options into the same directory, a temporary one, with
# --artifacts-path so nothing is written into src/*/obj or bin (a build may be running there).
# It first tries ReadyToRun (-r linux-x64 -p:PublishReadyToRun=true --self-contained false) for a
# faster start. That needs the Microsoft.NETCore.App.Crossgen2 and runtime packs from the NuGet
# registry. (They were served here when this was written. On the development machine, R2R cut
# the time from start to a usable FUSE-mode device from about 230 ms to about 170 ms, and
# `kmonitord --help` from 76 ms to 46 ms.) If that fails, it falls back to a plain
# framework-dependent publish and says so. Either way the machine needs the .NET 10 runtime at run time.
#
# Settings (environment):
#   DESTDIR      stage the installation under this directory (no root needed, no group, no
#                systemctl/udevadm calls)
#   PREFIX       default /usr/local
#   UNITDIR      where kmonitord.service goes (see above)
#   PUBLISH_DIR  install this already published output of `dotnet publish src/CuseDevice` and
#                `dotnet publish src/Command` (one directory) instead of building (for example
#                one built as an unprivileged user)
#   FORCE=1      overwrite files at our paths that an earlier install did not put there
set -euo pipefail

prog=install.sh
die() { echo "$prog: $*" >&2; exit 1; }
note() { echo "$prog: $*"; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)

DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr/local}
PUBLISH_DIR=${PUBLISH_DIR:-}
FORCE=${FORCE:-0}

# ---- checks ---------------------------------------------------------------------------------
for var in DESTDIR PREFIX; do
  case ${!var} in
    *[[:space:]]*) die "$var must not contain white space: '${!var}'" ;;
  esac
done
case $PREFIX in
  /*) ;;
  *) die "PREFIX must be an absolute path, not '$PREFIX'" ;;
esac
PREFIX=${PREFIX%/}
[ -n "$PREFIX" ] || die "PREFIX must not be /"
if [ -n "$DESTDIR" ]; then
  mkdir -p -- "$DESTDIR" || die "cannot create DESTDIR $DESTDIR"
  DESTDIR=$(cd "$DESTDIR" && pwd)
  [ "$DESTDIR" != / ] || DESTDIR=
fi
if [ -z "$DESTDIR" ] && [ "$(id -u)" != 0 ]; then
  die "must run as root to install into / (or set DESTDIR for a staged install)"
fi
for tool in install sha256sum realpath mktemp; do
  command -v "$tool" >/dev/null || die "'$tool' is missing (coreutils)"
done

libdir=$PREFIX/lib/kmonitord
sbindir=$PREFIX/sbin
bindir=$PREFIX/bin
case $PREFIX in
  /usr | /usr/local) default_unitdir=$PREFIX/lib/systemd/system ;;
  *) default_unitdir=/etc/systemd/system ;;
esac
unitdir=${UNITDIR:-$default_unitdir}
unitdir=${unitdir%/}
case $unitdir in
  /*) ;;
  *) die "UNITDIR must be an absolute path, not '$unitdir'" ;;
esac
includedir=$PREFIX/include/linux
mandir=$PREFIX/share/man
docdir=$PREFIX/share/doc/kmonitord
confdir=/etc/kmonitor
manifest=$libdir/install-manifest

for src in include/linux/kmonitor.h udev/99-kmonitor.rules udev/kmonitor.conf man/kmonitord.8 \
  man/kmonitor.4 man/kmonitor.1 packaging/kmonitord.service packaging/kmonitord.json \
  packaging/cuse-only-hardening.conf packaging/uninstall.sh; do
  [ -f "$top/$src" ] || die "$src is missing from the source tree $top"
done

stage=$(mktemp -d "${TMPDIR:-/tmp}/kmonitord-install.XXXXXX")
declare -A old_kind=() old_field=() recorded=()
old_entries=()
wrote=no finished=no
new_manifest=$stage/install-manifest
# If the installation stops after writing something, what it wrote (and what an earlier install
# recorded) is still saved as the manifest, so that uninstall.sh can remove it.
save_partial() {
  [ "$wrote" = yes ] && [ "$finished" = no ] && [ -d "$DESTDIR$libdir" ] || return 0
  local entry kind field path
  for entry in "${old_entries[@]}"; do
    IFS=$'\t' read -r kind field path <<<"$entry"
    [ -n "${recorded[$path]:-}" ] || printf '%s\n' "$entry" >>"$new_manifest"
  done
  cp -- "$new_manifest" "$DESTDIR$manifest" \
    && echo "$prog: stopped part-way; what was written is recorded in $DESTDIR$manifest for uninstall.sh" >&2
}
trap 'save_partial; rm -rf -- "$stage"' EXIT

# ---- publish ----------------------------------------------------------------------------------
if [ -n "$PUBLISH_DIR" ]; then
  if [ ! -x "$PUBLISH_DIR/kmonitord" ] || [ ! -f "$PUBLISH_DIR/kmonitord.dll" ]; then
    die "PUBLISH_DIR $PUBLISH_DIR holds no published kmonitord (kmonitord and kmonitord.dll)"
  fi
  if [ ! -x "$PUBLISH_DIR/kmonitor" ] || [ ! -f "$PUBLISH_DIR/kmonitor.dll" ]; then
    die "PUBLISH_DIR $PUBLISH_DIR holds no published kmonitor command (kmonitor and kmonitor.dll: dotnet publish src/Command -o $PUBLISH_DIR)"
  fi
  out=$PUBLISH_DIR
  note "installing the published daemon from $out"
else
  command -v dotnet >/dev/null \
    || die "dotnet is missing: install the .NET 10 SDK (or set PUBLISH_DIR to a published kmonitord)"
  dotnet --list-sdks 2>/dev/null | grep -Eq '^(1[0-9]|[2-9][0-9])\.' \
    || die "the .NET SDK 10 or later is needed to build kmonitord; dotnet --list-sdks shows: $(dotnet --list-sdks 2>/dev/null | tr '\n' ' ')"
  case $(uname -m) in
    x86_64) rid=linux-x64 ;;
    aarch64) rid=linux-arm64 ;;
    *) rid= ;;
  esac
  out=$stage/out
  log=$stage/publish.log
  # The daemon, then the command into the same directory, with the same options.
  publish() {
    dotnet publish "$top/src/CuseDevice" -c Release --nologo \
      --artifacts-path "$stage/artifacts" -o "$out" "$@" >"$log" 2>&1 \
      && dotnet publish "$top/src/Command" -c Release --nologo \
        --artifacts-path "$stage/artifacts" -o "$out" "$@" >>"$log" 2>&1
  }
  r2r=no
  if [ -n "$rid" ]; then
    note "publishing kmonitord and kmonitor (Release, ReadyToRun for $rid, framework-dependent)"
    if publish -r "$rid" --self-contained false -p:PublishReadyToRun=true; then
      r2r=yes
    else
      note "ReadyToRun publish failed (are the Microsoft.NETCore.App.Crossgen2 and runtime packs reachable on the NuGet registry?); falling back to a plain framework-dependent publish. Its last lines:"
      tail -n 5 "$log" | sed 's/^/    /' >&2
    fi
  fi
  if [ "$r2r" = no ]; then
    rm -rf -- "$out" "$stage/artifacts"
    note "publishing kmonitord and kmonitor (Release, framework-dependent, no ReadyToRun)"
    if ! publish; then
      tail -n 20 "$log" >&2
      die "dotnet publish src/CuseDevice or src/Command failed (its last lines above)"
    fi
  fi
  if [ ! -x "$out/kmonitord" ] || [ ! -f "$out/kmonitord.dll" ]; then
    die "dotnet publish produced no kmonitord apphost in $out"
  fi
  if [ ! -x "$out/kmonitor" ] || [ ! -f "$out/kmonitor.dll" ]; then
    die "dotnet publish produced no kmonitor apphost in $out"
  fi
fi

# systemd starts the daemon with a clean environment (no DOTNET_ROOT), so check that the apphost
# finds the runtime there. Where it does not (dotnet installed in a private location), install a
# wrapper that sets DOTNET_ROOT instead of the symlink.
wrapper_root=
if ! env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$out/kmonitord" --help >/dev/null 2>&1; then
  dotnet_bin=$(command -v dotnet || true)
  [ -n "$dotnet_bin" ] || die "the published kmonitord does not start, and there is no dotnet to find the runtime with"
  wrapper_root=$(dirname "$(realpath "$dotnet_bin")")
  DOTNET_ROOT=$wrapper_root "$out/kmonitord" --help >/dev/null 2>&1 \
    || die "the published kmonitord does not start (try: DOTNET_ROOT=$wrapper_root $out/kmonitord --help)"
  note "the apphost does not find the .NET runtime without DOTNET_ROOT; installing a wrapper with DOTNET_ROOT=$wrapper_root"
fi

# ---- the previous installation, if any -------------------------------------------------------
# Manifest lines, tab-separated: KIND FIELD PATH, with PATH as installed (without DESTDIR).
#   dir  -       PATH   a directory this installation created
#   file SHA256  PATH   a file of the package
#   conf SHA256  PATH   a configuration file: removed at uninstall only while unchanged
#   link TARGET  PATH   a symbolic link
#   group -      NAME   a group this installation created
if [ -f "$DESTDIR$manifest" ]; then
  note "updating the installation recorded in $manifest"
  while IFS=$'\t' read -r kind field path; do
    case $kind in
      dir | file | conf | link | group) ;;
      *) continue ;;
    esac
    old_kind[$path]=$kind
    old_field[$path]=$field
    old_entries+=("$kind"$'\t'"$field"$'\t'"$path")
  done <"$DESTDIR$manifest"
fi

{
  echo "# kmonitord install manifest, format 1: KIND<TAB>FIELD<TAB>PATH (PATH without DESTDIR)."
  echo "# Written by packaging/install.sh; read by uninstall.sh. Do not edit."
} >"$new_manifest"
record() { # KIND FIELD PATH
  printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$new_manifest"
  recorded[$3]=$1
}

sum() { sha256sum -- "$1" | cut -d' ' -f1; }

# Directories: carry over those an earlier install created, then create what is missing, one
# component at a time, and record each.
for entry in "${old_entries[@]}"; do
  IFS=$'\t' read -r kind field path <<<"$entry"
  if [ "$kind" = dir ] && [ -d "$DESTDIR$path" ]; then
    record dir - "$path"
  fi
done
ensure_dir() { # PATH
  local path=$1 sofar='' part
  local -a parts
  IFS=/ read -ra parts <<<"${path#/}"
  for part in "${parts[@]}"; do
    [ -n "$part" ] || continue
    sofar=$sofar/$part
    if [ ! -d "$DESTDIR$sofar" ]; then
      [ ! -e "$DESTDIR$sofar" ] || die "$DESTDIR$sofar exists and is not a directory"
      mkdir -m 0755 -- "$DESTDIR$sofar"
      wrote=yes
      record dir - "$sofar"
    fi
  done
}

# A path we are about to write must be ours already (recorded by an earlier install) or free.
claim() { # PATH
  local path=$1
  if { [ -e "$DESTDIR$path" ] || [ -L "$DESTDIR$path" ]; } && [ -z "${old_kind[$path]:-}" ] && [ "$FORCE" != 1 ]; then
    die "$DESTDIR$path exists and was not installed by this script; move it away or set FORCE=1"
  fi
}

install_file() { # MODE SOURCE PATH
  local mode=$1 source=$2 path=$3
  ensure_dir "$(dirname "$path")"
  claim "$path"
  wrote=yes
  rm -f -- "$DESTDIR$path" # replaces a symlink or a running executable safely
  install -m "$mode" -- "$source" "$DESTDIR$path"
  record file "$(sum "$DESTDIR$path")" "$path"
}

# Configuration in /etc: installed when absent, replaced when unchanged since the last install
# (or already identical), otherwise left as the administrator made it.
install_conf() { # SOURCE PATH [once]
  local source=$1 path=$2 once=${3:-} current
  ensure_dir "$(dirname "$path")"
  if [ ! -e "$DESTDIR$path" ] && [ ! -L "$DESTDIR$path" ]; then
    wrote=yes
    install -m 0644 -- "$source" "$DESTDIR$path"
    record conf "$(sum "$DESTDIR$path")" "$path"
    return
  fi
  current=$(sum "$DESTDIR$path")
  if [ "${old_kind[$path]:-}" != conf ]; then
    # Not ours: the administrator's (for example copied by hand from udev/). Never touched.
    if [ "$current" != "$(sum "$source")" ]; then
      note "keeping $DESTDIR$path, which this script did not install (the packaged version is $source)"
    fi
    return
  fi
  if [ "$once" = once ] || [ "$current" != "${old_field[$path]}" ]; then
    # Ours, but edited since (or a configuration that is only ever written once): kept, and
    # still recorded with the checksum it was installed with, so uninstall keeps it too.
    [ "$once" = once ] || [ "$current" = "$(sum "$source")" ] \
      || note "keeping $DESTDIR$path: it was changed since it was installed (the packaged version is $source)"
    record conf "${old_field[$path]}" "$path"
    return
  fi
  install -m 0644 -- "$source" "$DESTDIR$path"
  record conf "$(sum "$DESTDIR$path")" "$path"
}

# ---- install ----------------------------------------------------------------------------------
# The package's own files, as MODE<TAB>SOURCE<TAB>PATH. First every path is checked, so that a
# file in the way stops the installation before anything is written.
plan=()
# (A file, not process substitution: /dev/fd may be missing in minimal systems.)
find "$out" -type f -print0 | sort -z >"$stage/published"
# The daemon: everything dotnet publish produced (apphost, assemblies, deps/runtimeconfig, pdbs
# for line numbers in stack traces).
while IFS= read -r -d '' f; do
  rel=${f#"$out"/}
  case $rel in
    install-manifest | uninstall.sh) continue ;; # when PUBLISH_DIR is an installed libdir
  esac
  case $rel in
    kmonitord | kmonitor) mode=0755 ;;
    *) mode=0644 ;;
  esac
  plan+=("$mode"$'\t'"$f"$'\t'"$libdir/$rel")
done <"$stage/published"
# The programs on PATH: each a link to its apphost, or a wrapper (see wrapper_root above).
programs=("kmonitord"$'\t'"$sbindir" "kmonitor"$'\t'"$bindir")
if [ -n "$wrapper_root" ]; then
  for program in "${programs[@]}"; do
    IFS=$'\t' read -r name dir <<<"$program"
    printf '#!/bin/sh\n# Installed by kmonitord packaging/install.sh: the apphost needs DOTNET_ROOT here.\nDOTNET_ROOT='\''%s'\''\nexport DOTNET_ROOT\nexec '\''%s'\'' "$@"\n' \
      "$wrapper_root" "$libdir/$name" >"$stage/wrapper-$name"
    plan+=("0755"$'\t'"$stage/wrapper-$name"$'\t'"$dir/$name")
  done
fi
sed "s|^ExecStart=/usr/local/sbin/kmonitord|ExecStart=$sbindir/kmonitord|; s|^ExecStopPost=/usr/local/sbin/kmonitord|ExecStopPost=$sbindir/kmonitord|; s|PREFIX/share/doc/kmonitord|$docdir|" \
  "$top/packaging/kmonitord.service" >"$stage/kmonitord.service"
plan+=(
  "0644"$'\t'"$stage/kmonitord.service"$'\t'"$unitdir/kmonitord.service"
  "0644"$'\t'"$top/include/linux/kmonitor.h"$'\t'"$includedir/kmonitor.h"
  "0644"$'\t'"$top/man/kmonitord.8"$'\t'"$mandir/man8/kmonitord.8"
  "0644"$'\t'"$top/man/kmonitor.4"$'\t'"$mandir/man4/kmonitor.4"
  "0644"$'\t'"$top/man/kmonitor.1"$'\t'"$mandir/man1/kmonitor.1"
  "0644"$'\t'"$top/packaging/cuse-only-hardening.conf"$'\t'"$docdir/cuse-only-hardening.conf"
  "0755"$'\t'"$top/packaging/uninstall.sh"$'\t'"$libdir/uninstall.sh"
)

for entry in "${plan[@]}"; do
  IFS=$'\t' read -r mode source path <<<"$entry"
  claim "$path"
done
if [ -z "$wrapper_root" ]; then
  claim "$sbindir/kmonitord"
  claim "$bindir/kmonitor"
fi

for entry in "${plan[@]}"; do
  IFS=$'\t' read -r mode source path <<<"$entry"
  install_file "$mode" "$source" "$path"
done
if [ -z "$wrapper_root" ]; then
  # Relative, so that they also resolve inside DESTDIR. An apphost finds its assemblies through
  # /proc/self/exe, that is, through the link's target.
  for program in "${programs[@]}"; do
    IFS=$'\t' read -r name dir <<<"$program"
    ensure_dir "$dir"
    target=$(realpath -m --relative-to="$dir" "$libdir/$name")
    wrote=yes
    rm -f -- "$DESTDIR$dir/$name"
    ln -s -- "$target" "$DESTDIR$dir/$name"
    record link "$target" "$dir/$name"
  done
fi
install_conf "$top/udev/99-kmonitor.rules" /etc/udev/rules.d/99-kmonitor.rules
install_conf "$top/udev/kmonitor.conf" /etc/modules-load.d/kmonitor.conf
install_conf "$top/packaging/kmonitord.json" "$confdir/kmonitord.json" once

if [ -n "$DESTDIR" ]; then
  note "DESTDIR is set: not creating the kmonitor group (run 'groupadd --system kmonitor' on the target)"
elif getent group kmonitor >/dev/null; then
  [ "${old_kind[kmonitor]:-}" != group ] || record group - kmonitor
else
  groupadd --system kmonitor || die "groupadd --system kmonitor failed"
  record group - kmonitor
  note "created the system group kmonitor (its members may open /dev/kmonitor)"
fi

# Files an earlier version installed and this one does not: removed (configuration only while
# unchanged). Directories are left to uninstall.
for entry in "${old_entries[@]}"; do
  IFS=$'\t' read -r kind field path <<<"$entry"
  [ -z "${recorded[$path]:-}" ] || continue
  case $kind in
    file) rm -f -- "$DESTDIR$path" ;;
    link) [ ! -L "$DESTDIR$path" ] || rm -f -- "$DESTDIR$path" ;;
    conf)
      if [ -f "$DESTDIR$path" ] && [ "$(sum "$DESTDIR$path")" = "$field" ]; then
        rm -f -- "$DESTDIR$path"
      else
        note "keeping $DESTDIR$path (changed since installed; no longer part of the package)"
      fi
      ;;
  esac
done

install -m 0644 -- "$new_manifest" "$DESTDIR$manifest"
finished=yes

# ---- tell the running system -----------------------------------------------------------------
if [ -z "$DESTDIR" ]; then
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    systemctl daemon-reload || note "systemctl daemon-reload failed"
  fi
  if [ -S /run/udev/control ] && command -v udevadm >/dev/null; then
    udevadm control --reload || note "udevadm control --reload failed"
  fi
fi

if [ -n "$PUBLISH_DIR" ]; then
  how="from $PUBLISH_DIR"
elif [ "$r2r" = yes ]; then
  how="ReadyToRun, framework-dependent"
else
  how="framework-dependent, without ReadyToRun"
fi
note "installed kmonitord and kmonitor ($how) under ${DESTDIR:-/} with PREFIX=$PREFIX; manifest $DESTDIR$manifest"
if [ -z "$DESTDIR" ]; then
  if [ -d /run/systemd/system ] && systemctl is-active --quiet kmonitord.service 2>/dev/null; then
    note "kmonitord.service is running the old version: 'systemctl restart kmonitord' (this ends every registration)"
  else
    note "start it with: systemctl enable --now kmonitord.service"
  fi
fi
