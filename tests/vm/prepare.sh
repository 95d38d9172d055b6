#!/usr/bin/env bash
# prepare.sh - get everything tests/vm/run.sh needs to boot a CUSE-capable VM.
#
# Why a VM at all: the host kernel has FUSE but not CUSE, and CUSE mode of
# kmonitord needs /dev/cuse. Debian's stock kernel has cuse.ko, so we boot it
# under qemu (TCG) with the host's root file system shared read-only.
#
# What this does (idempotent; a second run downloads nothing):
#   1. installs qemu-system-x86, busybox-static, kmod (modinfo/depmod) and
#      cpio if missing; runs `apt-get update` only when apt knows nothing yet;
#   2. resolves the kernel package that linux-image-amd64 depends on (never
#      hard-coded: security updates bump its name), downloads it with
#      `apt-get download` and unpacks it with `dpkg-deb -x` into the cache.
#      It is NEVER installed on the host;
#   3. extracts the uncompressed ELF vmlinux from vmlinuz so qemu can boot it
#      through PVH (`-kernel vmlinux`), which is ~4 s faster than a bzImage;
#   4. runs `depmod -b` on the unpacked tree so `modprobe` works in the guest;
#   5. builds initramfs.cpio.gz (busybox + the modules needed to reach the
#      9p root, overlayfs, fuse and cuse), rebuilt only when its inputs change.
#
# Cache: ${KMONITOR_VM_CACHE:-/var/cache/kmonitor-vm}/<kernel-version>/, and
# a `current` symlink that run.sh follows.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache_root=${KMONITOR_VM_CACHE:-/var/cache/kmonitor-vm}

# Modules the initramfs must load. Only the "roots" are listed here; their
# dependencies are read from each .ko's `modinfo -F depends` below, so the
# load order is derived from the kernel itself rather than trusted.
# virtio_pci: the PCI transport; 9pnet_virtio + 9p: the shared file systems;
# overlay: writable tmpfs layer over the read-only root; fuse + cuse: the point.
root_modules=(virtio_pci 9pnet_virtio 9p overlay fuse cuse)
# The order we expect today (Debian 6.1), only used to warn if it drifts.
expected_order="virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio virtio_pci 9pnet 9pnet_virtio netfs fscache 9p overlay fuse cuse"

log() { printf 'prepare: %s\n' "$*" >&2; }
die() { printf 'prepare: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (apt-get, cache in /var/cache)"

# --- 1. host packages ------------------------------------------------------
# Each command we need, and the package that provides it.
declare -A need=(
  [qemu-system-x86_64]=qemu-system-x86
  [busybox]=busybox-static
  [modinfo]=kmod
  [depmod]=kmod
  [cpio]=cpio
  [xz]=xz-utils
)
# busybox must be the static one: it runs inside the initramfs with no libc.
missing=()
for cmd in "${!need[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}")
done
dpkg-query -W -f='${Status}\n' busybox-static 2>/dev/null | grep -q 'install ok installed' \
  || missing+=(busybox-static)

candidate() { # prints apt's candidate version of $1, or nothing
  apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { if ($2 != "(none)") print $2; exit }'
}
updated=0
apt_update() { log "apt-get update"; apt-get update -qq; updated=1; }

if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  [ -n "$(candidate qemu-system-x86)" ] || apt_update
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- 2. resolve, download and unpack the kernel -----------------------------
# linux-image-amd64 is a metapackage; its candidate depends on the real
# package, e.g. linux-image-6.1.0-56-amd64, whose suffix is `uname -r`.
# (apt-cache takes ~0.7 s a call here, so it is called as little as possible.)
resolve_kpkg() {
  apt-cache depends linux-image-amd64 2>/dev/null \
    | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}
kpkg=$(resolve_kpkg)
if [ -z "$kpkg" ] && [ $updated = 0 ]; then
  apt_update
  kpkg=$(resolve_kpkg)
fi
[ -n "$kpkg" ] || die "cannot resolve the package linux-image-amd64 depends on"
kver=${kpkg#linux-image-}
kpkg_version=$(candidate "$kpkg")
[ -n "$kpkg_version" ] || die "no candidate version for $kpkg"

dir=$cache_root/$kver
mkdir -p "$dir"
# One prepare at a time per cache (run.sh may call us too).
exec 9>"$dir/.lock"
flock 9

root=$dir/root            # the unpacked .deb
stamp=$dir/unpacked.stamp # holds the package version that was unpacked
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$kpkg=$kpkg_version" ] && [ -d "$root" ]; then
  log "kernel $kpkg $kpkg_version already unpacked in $root"
else
  log "downloading $kpkg=$kpkg_version"
  dl=$(mktemp -d "$dir/download.XXXXXX")
  # apt drops privileges to _apt for downloads; let it write there.
  if id _apt >/dev/null 2>&1; then chown _apt "$dl"; fi
  if ! (cd "$dl" && apt-get download -qq "$kpkg=$kpkg_version"); then
    # Stale package lists give 404s: refresh once and retry.
    [ $updated = 1 ] && die "apt-get download $kpkg failed"
    apt_update
    kpkg_version=$(candidate "$kpkg")
    (cd "$dl" && apt-get download -qq "$kpkg=$kpkg_version") || die "apt-get download $kpkg failed"
  fi
  deb=$(find "$dl" -maxdepth 1 -name '*.deb' | head -n1)
  [ -n "$deb" ] || die "apt-get download produced no .deb"
  log "unpacking $(basename "$deb") (not installing it)"
  rm -rf "$root" "$root.new"
  dpkg-deb -x "$deb" "$root.new"
  mv "$root.new" "$root"
  rm -rf "$dl"
  rm -f "$dir/vmlinux" "$dir/depmod.stamp"
  printf '%s\n' "$kpkg=$kpkg_version" >"$stamp"
fi

moddir=$root/lib/modules/$kver
[ -d "$moddir" ] || die "no $moddir in $kpkg"
vmlinuz=$root/boot/vmlinuz-$kver
[ -f "$vmlinuz" ] || die "no $vmlinuz in $kpkg"

# --- 3. vmlinux from vmlinuz -----------------------------------------------
# A bzImage is setup code + a small decompressor + an xz-compressed payload
# that is the ELF vmlinux (plus relocation data after it, which ELF loaders
# ignore). Find the xz magic, decompress only the first stream, and ignore
# whatever follows it (--single-stream tolerates trailing garbage).
if [ ! -s "$dir/vmlinux" ]; then
  off=$(LC_ALL=C grep -m1 -obUaP '\xfd7zXZ\x00' "$vmlinuz" | cut -d: -f1 | sed -n 1p)
  [ -n "$off" ] || die "no xz payload in $vmlinuz"
  log "extracting vmlinux (xz payload at offset $off)"
  # (Process substitution, not a pipe: xz stops reading early, and the
  # resulting SIGPIPE in tail would trip pipefail.)
  xz -dc --single-stream < <(tail -c +$((off + 1)) "$vmlinuz") >"$dir/vmlinux.new"
  [ "$(head -c 4 "$dir/vmlinux.new" | od -An -c | tr -d ' ')" = '177ELF' ] \
    || die "payload of $vmlinuz is not an ELF file"
  mv "$dir/vmlinux.new" "$dir/vmlinux"
fi

# --- 4. depmod on the cache copy -------------------------------------------
# The package ships no modules.dep (its postinst would make it). The guest
# bind-mounts $moddir on /lib/modules/$kver, so `modprobe cuse` works there.
if [ ! -f "$dir/depmod.stamp" ] || [ ! -s "$moddir/modules.dep" ]; then
  log "depmod -b $root $kver"
  depmod -b "$root" "$kver"
  touch "$dir/depmod.stamp"
fi

# --- 5. initramfs ----------------------------------------------------------
# Map module name -> .ko path (names use '_' where file names may use '-').
declare -A kofile=()
while IFS= read -r ko; do
  name=${ko##*/}
  name=${name%.ko}
  kofile[${name//-/_}]=$ko
done < <(find "$moddir/kernel" -name '*.ko')
[ ${#kofile[@]} -gt 0 ] || die "no uncompressed .ko files under $moddir/kernel"

builtin_list=$moddir/modules.builtin
is_builtin() { [ -f "$builtin_list" ] && grep -q "/${1}\.ko\$" "$builtin_list"; }

# Depth-first walk over `modinfo -F depends`: dependencies come out before
# the modules that need them, which is the order insmod must use.
order=()
declare -A state=()
visit() {
  local m=$1 d deps
  case ${state[$m]:-} in visited) return ;; visiting) die "dependency cycle at $m" ;; esac
  if [ -z "${kofile[$m]:-}" ]; then
    is_builtin "$m" && { state[$m]=visited; return; }
    die "module $m not found in $kpkg"
  fi
  state[$m]=visiting
  deps=$(modinfo -F depends "${kofile[$m]}")
  for d in ${deps//,/ }; do visit "${d//-/_}"; done
  state[$m]=visited
  order+=("$m")
}
for m in "${root_modules[@]}"; do visit "$m"; done
if [ "${order[*]}" != "$expected_order" ]; then
  log "note: module order differs from the one documented:"
  log "  expected: $expected_order"
  log "  computed: ${order[*]} (using this one)"
fi

init_script=$here/guest-init.sh
busybox_bin=$(command -v busybox)
# Everything that goes into the image, hashed: rebuild only on change.
inputs_hash=$( {
  printf '%s\n' "$kver" "${order[*]}"
  sha256sum "$init_script" "$busybox_bin"
  for m in "${order[@]}"; do sha256sum "${kofile[$m]}"; done
} | sed "s# .*/# #" | sha256sum | cut -d' ' -f1)

initrd=$dir/initramfs.cpio.gz
if [ -s "$initrd" ] && [ "$(cat "$dir/initramfs.hash" 2>/dev/null)" = "$inputs_hash" ]; then
  log "initramfs up to date"
  # run.sh rebuilds when guest-init.sh is newer than the image; a checkout
  # can make it newer without changing it, so mark the image as checked.
  touch "$initrd"
else
  log "building initramfs: ${order[*]}"
  stage=$(mktemp -d)
  trap 'rm -rf "$stage"' EXIT
  mkdir -p "$stage"/{bin,dev,proc,sys,modules,newroot,lower,rw,ctl}
  cp "$busybox_bin" "$stage/bin/busybox"
  cp "$init_script" "$stage/init"
  chmod 755 "$stage/init" "$stage/bin/busybox"
  for m in "${order[@]}"; do cp "${kofile[$m]}" "$stage/modules/$m.ko"; done
  printf '%s\n' "${order[@]}" >"$stage/modules/order"
  printf '%s\n' "$kver" >"$stage/kver"
  # The kernel opens /dev/console before /init runs, to give it stdio;
  # without the node init starts with none (init re-opens it after devtmpfs).
  mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || true
  (cd "$stage" && find . -print0 | LC_ALL=C sort -z \
    | cpio --null -o -H newc -R 0:0 --reproducible --quiet) >"$stage.cpio"
  gzip -n -6 <"$stage.cpio" >"$initrd.new"
  rm -f "$stage.cpio"
  mv "$initrd.new" "$initrd"
  printf '%s\n' "$inputs_hash" >"$dir/initramfs.hash"
fi

# run.sh boots whatever `current` points at.
ln -sfn "$kver" "$cache_root/current.new"
mv -T "$cache_root/current.new" "$cache_root/current"
log "ready: $dir (kernel $kver)"
