#!/usr/bin/env bash
# packaging/deb/build.sh - build the Debian package kmonitord_VERSION_amd64.deb.
#
#   packaging/deb/build.sh [OUTDIR]      (default OUTDIR: the current directory)
#
# VERSION comes from <Version> in Directory.Build.props (the one place it is kept); set
# DEB_VERSION to override it (the tests build a higher one to check an upgrade). PUBLISH_DIR, as
# for install.sh, packages an already published daemon and command instead of publishing them.
# Needs dpkg-deb, and the .NET 10 SDK unless PUBLISH_DIR is given. Root is not needed.
#
# The package is framework-dependent: it needs the .NET 10 runtime on the machine, and does not
# declare it as a dependency, because the runtime is often installed outside dpkg (as here, in
# /usr/share/dotnet from Microsoft's tarball), where a Depends: could never be satisfied. A
# self-contained build would carry its own runtime (about 70 MB more) and leave its security
# updates to us. postinst checks that the daemon starts and says so if the runtime is missing.
#
# Contents (Debian paths; the same files install.sh puts under /usr/local):
#   /usr/lib/kmonitord/                  daemon and command (apphosts and assemblies)
#   /usr/sbin/kmonitord, /usr/bin/kmonitor   links to the apphosts, or a wrapper setting
#                                        DOTNET_ROOT where the apphost cannot find the runtime
#   /lib/systemd/system/kmonitord.service
#   /lib/udev/rules.d/99-kmonitor.rules  (an admin's /etc/udev/rules.d file of that name wins)
#   /usr/lib/modules-load.d/kmonitor.conf
#   /etc/kmonitor/kmonitord.json         a conffile
#   /usr/include/linux/kmonitor.h, /usr/share/man/man{1,4,8}/..., /usr/share/doc/kmonitord/
set -euo pipefail
prog=build.sh
die() { echo "$prog: $*" >&2; exit 1; }
note() { echo "$prog: $*"; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
outdir=$(cd "${1:-.}" && pwd) || die "no such output directory: ${1:-.}"
command -v dpkg-deb >/dev/null || die "dpkg-deb is missing (package dpkg)"

version=${DEB_VERSION:-$(sed -n 's|.*<Version>\(.*\)</Version>.*|\1|p' "$top/Directory.Build.props" | head -n1)}
[ -n "$version" ] || die "no <Version> in Directory.Build.props"
arch=$(dpkg --print-architecture)
case $arch in
  amd64) rid=linux-x64 ;;
  arm64) rid=linux-arm64 ;;
  *) die "no .NET runtime identifier for the architecture $arch" ;;
esac

stage=$(mktemp -d "${TMPDIR:-/tmp}/kmonitord-deb.XXXXXX")
trap 'rm -rf -- "$stage"' EXIT
root=$stage/root

# ---- the published daemon and command ---------------------------------------------------------
if [ -n "${PUBLISH_DIR:-}" ]; then
  pub=$(cd "$PUBLISH_DIR" && pwd)
else
  command -v dotnet >/dev/null || die "dotnet is missing: install the .NET 10 SDK (or set PUBLISH_DIR)"
  pub=$stage/publish
  note "publishing kmonitord and kmonitor $version (Release, $rid, framework-dependent)"
  for project in src/CuseDevice src/Command; do
    dotnet publish "$top/$project" -c Release -r "$rid" --self-contained false --nologo -v quiet \
      --artifacts-path "$stage/artifacts" -o "$pub" -p:Version="$version" >"$stage/publish.log" 2>&1 \
      || { tail -n 20 "$stage/publish.log" >&2; die "dotnet publish $project failed"; }
  done
fi
for program in kmonitord kmonitor; do
  [ -x "$pub/$program" ] && [ -f "$pub/$program.dll" ] || die "$pub holds no published $program"
done

libdir=/usr/lib/kmonitord
install -d "$root$libdir"
# Everything publish produced, except what install.sh adds to an installed libdir.
(cd "$pub" && find . -type f ! -name install-manifest ! -name uninstall.sh -print0) \
  | while IFS= read -r -d '' f; do
    case ${f#./} in kmonitord | kmonitor) mode=0755 ;; *) mode=0644 ;; esac
    install -D -m "$mode" "$pub/$f" "$root$libdir/${f#./}"
  done

# systemd starts the daemon with an empty environment. Where the apphost does not find the
# runtime there (a private install), the program on PATH is a wrapper that sets DOTNET_ROOT.
dotnet_root=
if ! env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$pub/kmonitord" --help >/dev/null 2>&1; then
  dotnet_bin=$(command -v dotnet || true)
  [ -n "$dotnet_bin" ] || die "the published kmonitord does not start, and there is no dotnet to find the runtime with"
  dotnet_root=$(dirname "$(realpath "$dotnet_bin")")
  note "the apphost needs DOTNET_ROOT=$dotnet_root here: /usr/sbin/kmonitord and /usr/bin/kmonitor are wrappers"
fi
for entry in kmonitord:/usr/sbin kmonitor:/usr/bin; do
  name=${entry%%:*} dir=${entry#*:}
  install -d "$root$dir"
  if [ -n "$dotnet_root" ]; then
    printf '#!/bin/sh\n# kmonitord package: the apphost needs DOTNET_ROOT on this machine.\nDOTNET_ROOT='\''%s'\''\nexport DOTNET_ROOT\nexec %s/%s "$@"\n' \
      "$dotnet_root" "$libdir" "$name" >"$root$dir/$name"
    chmod 0755 "$root$dir/$name"
  else
    ln -s "../lib/kmonitord/$name" "$root$dir/$name"
  fi
done

# ---- the rest of what install.sh installs ---------------------------------------------------
install -d "$root/lib/systemd/system"
sed 's|^ExecStart=/usr/local/sbin/kmonitord|ExecStart=/usr/sbin/kmonitord|; s|^ExecStopPost=/usr/local/sbin/kmonitord|ExecStopPost=/usr/sbin/kmonitord|; s|PREFIX/share/doc/kmonitord|/usr/share/doc/kmonitord|; s|^# packaging/install.sh installs this file into .*|# Installed by the kmonitord Debian package (packaging/deb/build.sh) into /lib/systemd/system,|; s|^# /usr/local/lib/systemd/system, which systemd searches after .*|# which systemd searches after /etc/systemd/system, so an|; s|/etc/modules-load.d/kmonitor.conf loads|/usr/lib/modules-load.d/kmonitor.conf loads|' \
  "$top/packaging/kmonitord.service" >"$root/lib/systemd/system/kmonitord.service"
grep -qx 'ExecStart=/usr/sbin/kmonitord' "$root/lib/systemd/system/kmonitord.service" \
  || die "could not point ExecStart= at /usr/sbin/kmonitord"
grep -qx 'ExecStopPost=/usr/sbin/kmonitord cleanup --unit %n' "$root/lib/systemd/system/kmonitord.service" \
  || die "could not point ExecStopPost= at /usr/sbin/kmonitord"
install -D -m 0644 "$top/udev/99-kmonitor.rules" "$root/lib/udev/rules.d/99-kmonitor.rules"
install -D -m 0644 "$top/udev/kmonitor.conf" "$root/usr/lib/modules-load.d/kmonitor.conf"
install -D -m 0644 "$top/packaging/kmonitord.json" "$root/etc/kmonitor/kmonitord.json"
install -D -m 0644 "$top/include/linux/kmonitor.h" "$root/usr/include/linux/kmonitor.h"
for page in kmonitord.8 kmonitor.4 kmonitor.1; do
  section=${page##*.}
  install -d "$root/usr/share/man/man$section"
  gzip -9n <"$top/man/$page" >"$root/usr/share/man/man$section/$page.gz"
done
docdir=$root/usr/share/doc/kmonitord
install -D -m 0644 "$top/packaging/cuse-only-hardening.conf" "$docdir/cuse-only-hardening.conf"
printf 'kmonitord\n\nSource: %s\nBuilt by packaging/deb/build.sh from the kmonitord repository.\n' \
  "$(git -C "$top" rev-parse HEAD 2>/dev/null || echo unknown)" >"$docdir/copyright"

# ---- control and maintainer scripts --------------------------------------------------------
install -d "$root/DEBIAN"
for script in postinst prerm postrm; do
  install -m 0755 "$here/$script" "$root/DEBIAN/$script"
done
echo /etc/kmonitor/kmonitord.json >"$root/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<EOF
Package: kmonitord
Version: $version
Architecture: $arch
Maintainer: kmonitord developers <kmonitord@localhost>
Installed-Size: $size
Depends: libc6, passwd
Section: admin
Priority: optional
Description: kmonitor process event device (/dev/kmonitor) served from user space
 kmonitord serves the 2004 kmonitor device (/dev/kmonitor: REGISTER and DEREGISTER
 ioctls, real-time signals about fork, exec, thread and exit of a watched pid) through
 CUSE, or a one-file FUSE mount where the kernel has no CUSE, fed by the netlink
 process connector. Includes the kmonitor command and <linux/kmonitor.h>.
 .
 Needs the .NET 10 runtime (not declared as a dependency: it is often installed
 outside dpkg).
EOF

deb=$outdir/kmonitord_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
note "built $deb"
