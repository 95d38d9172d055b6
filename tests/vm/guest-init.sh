#!/bin/busybox sh
# guest-init.sh - /init of the kmonitor VM initramfs (built by prepare.sh).
#
# Stage 1 (PID 1 in the initramfs): load the modules, mount the host's root
# read-only over virtio-9p, put a tmpfs-backed overlay on top so the guest can
# write anywhere, mount the project checkout read-write at its host path,
# then switch_root into the overlay.
# Stage 2 (`init stage2`, PID 1 in the overlay): run the command that run.sh
# left in the control share, with its output and exit status written to files
# on that share (the serial console is slow and full of kernel messages),
# then power off.
#
# The control share (/run/kmonitor-vm in the guest) is a per-run host temp
# dir holding vm.conf (settings) and cmd.sh (the command), and receiving
# output, status and started.
# shellcheck shell=sh

bb=/bin/busybox
ctl=/run/kmonitor-vm     # where the control share ends up in the new root
kvm_bin=/run/kmonitor-vm-bin # a tmpfs copy of busybox and this script

# Fail loudly on the console (run.sh prints its tail) and power off: without
# a status file run.sh reports a boot failure instead of hanging.
fail() {
	echo "kmonitor-vm-init: error: $*"
	$bb sync
	$bb poweroff -f
	exit 1
}

# 9p options: 9p2000.L for POSIX semantics; msize=512000 is the largest the
# 6.1 virtio transport takes (125 pages) and makes big reads far faster.
p9opts=trans=virtio,version=9p2000.L,msize=512000

# Runs cmd.sh with its output and status on the control share. Called by
# stage 2 directly, or, in systemd mode, by the unit kmonitor-vm-command.
run_command() {
	cd / || fail "cd /"
	# Proof of life for run.sh's timing: kernel uptime when the command starts.
	$bb cat /proc/uptime >"$ctl/started"
	sh=/bin/sh
	[ -x "$sh" ] || sh="$kvm_bin/busybox sh"
	# A clean environment; cmd.sh adds the caller's KMONITOR_* and the cwd.
	# KMONITOR_VM_GUEST=1 tells tests that change kernel knobs (pid_max) that
	# they run in this throwaway VM, not on the host.
	# shellcheck disable=SC2086 # $sh may be "busybox sh"
	$bb env -i \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root USER=root LOGNAME=root SHELL=/bin/sh TERM=dumb LANG=C.UTF-8 \
		DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 KMONITOR_VM_GUEST=1 \
		$sh "$ctl/cmd.sh" </dev/null >"$ctl/output" 2>&1
	rc=$?
	# Write-then-rename so run.sh never reads a half-written status.
	echo "$rc" >"$ctl/status.tmp" && $bb mv "$ctl/status.tmp" "$ctl/status"
	$bb sync
}

# systemd mode: the units that make systemd (PID 1) run the command and
# nothing the throwaway overlay root cannot do. The default target is our
# own, which pulls sysinit.target (journald, udevd and its coldplug,
# modules-load, tmpfiles) and sockets.target, but not basic.target: that
# would bring timers.target, whose persistent timers (man-db, apt-daily)
# would start at once and eat the emulated CPUs.
install_systemd_units() {
	units=/etc/systemd/system
	$bb mkdir -p "$units" || fail "mkdir $units"
	$bb cat >"$units/kmonitor-vm.target" <<-EOT || fail "write kmonitor-vm.target"
		[Unit]
		Description=kmonitor VM: run the command of tests/vm/run.sh
		Requires=sysinit.target sockets.target
		After=sysinit.target sockets.target
		Wants=kmonitor-vm-command.service
		AllowIsolate=yes
	EOT
	$bb cat >"$units/kmonitor-vm-command.service" <<-EOT || fail "write kmonitor-vm-command.service"
		[Unit]
		Description=kmonitor VM: the command of tests/vm/run.sh
		After=sysinit.target sockets.target systemd-udevd.service
		# Power off whatever the command did: run.sh waits for qemu to exit.
		FailureAction=poweroff-force
		SuccessAction=poweroff-force
		[Service]
		Type=oneshot
		TimeoutStartSec=infinity
		# The command is a test: its children (daemons it started, monitors)
		# are its business, and the forced poweroff ends them.
		KillMode=process
		ExecStart=$kvm_bin/busybox sh $kvm_bin/init command
	EOT
	# Units the host enables or the kernel command line generates that make
	# no sense here (network time, consoles, first-boot setup, TPM, the
	# journal on a disk that is a tmpfs anyway) or cost boot time in TCG.
	# udevd itself runs (the CUSE node's group comes from a udev rule), but
	# the coldplug of every existing device does not: under TCG its workers
	# took 20 s of both CPUs and held up the poweroff by 30 s more, and the
	# devices the tests use are in devtmpfs already.
	for unit in systemd-udev-trigger.service systemd-timesyncd.service systemd-pstore.service systemd-firstboot.service \
		systemd-repart.service systemd-binfmt.service proc-sys-fs-binfmt_misc.automount \
		systemd-pcrphase.service systemd-pcrphase-sysinit.service systemd-random-seed.service \
		systemd-journal-flush.service systemd-update-utmp.service systemd-machine-id-commit.service \
		systemd-remount-fs.service getty.target serial-getty@ttyS0.service console-getty.service \
		systemd-networkd.service systemd-resolved.service networking.service; do
		$bb ln -sf /dev/null "$units/$unit" || fail "mask $unit"
	done
}

if [ "${1:-}" = stage2 ]; then
	bb=$kvm_bin/busybox # the host root may have no busybox
	# shellcheck source=/dev/null
	. "$ctl/vm.conf"
	if [ "${VM_SYSTEMD:-}" = 1 ]; then
		[ -x /lib/systemd/systemd ] || fail "systemd mode, but no /lib/systemd/systemd on the host root"
		install_systemd_units
		exec $bb env -i TERM=vt102 /lib/systemd/systemd --unit=kmonitor-vm.target
	fi
	run_command
	$bb poweroff -f
	exit "$rc"
fi

if [ "${1:-}" = command ]; then
	bb=$kvm_bin/busybox
	run_command
	# The unit's SuccessAction/FailureAction power off; the exit status is in
	# the status file, so the unit itself always succeeds.
	exit 0
fi

# ---- stage 1 ---------------------------------------------------------------
export PATH=/bin
$bb mount -t devtmpfs devtmpfs /dev || fail "mount devtmpfs"
exec </dev/null >/dev/console 2>&1
$bb --install -s /bin
mount -t proc proc /proc || fail "mount proc"
mount -t sysfs sysfs /sys || fail "mount sysfs"

kver=$(cat /kver)
[ "$(uname -r)" = "$kver" ] || fail "initramfs is for $kver, kernel is $(uname -r)"

# Order computed by prepare.sh from each module's `depends=`.
while read -r m; do
	insmod "/modules/$m.ko" || fail "insmod $m"
done </modules/order

# Control share first: vm.conf says what else to mount.
mount -t 9p -o "$p9opts,cache=none" kmvmctl /ctl || fail "mount control share"
[ -f /ctl/vm.conf ] || fail "no vm.conf in the control share"
# Sets VM_SHARE (host path of the checkout, may be empty) and VM_MODDIR
# (host path of the unpacked lib/modules/<kver> in the cache).
# shellcheck source=/dev/null
. /ctl/vm.conf

# Host root, read-only. cache=loose: nothing changes it under us for the few
# minutes a run lasts, and caching pages and dentries avoids 9p round trips.
mount -t 9p -o "ro,$p9opts,cache=loose" hostroot /lower || fail "mount host root"
mount -t tmpfs -o mode=755 tmpfs /rw || fail "mount tmpfs"
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot \
	|| fail "mount overlay"

mount --move /dev /newroot/dev || fail "move /dev"
mount --move /proc /newroot/proc || fail "move /proc"
mount --move /sys /newroot/sys || fail "move /sys"
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /newroot/dev/pts || fail "mount devpts"
mount -t tmpfs -o mode=1777 tmpfs /newroot/dev/shm || fail "mount /dev/shm"
mount -t tmpfs -o mode=1777 tmpfs /newroot/tmp || fail "mount /tmp"
mount -t tmpfs -o mode=755 tmpfs /newroot/run || fail "mount /run"

mkdir -p "/newroot$ctl" "/newroot$kvm_bin"
mount --move /ctl "/newroot$ctl" || fail "move control share"
cp /bin/busybox /init "/newroot$kvm_bin/" || fail "copy busybox"

# The checkout, read-write at the same path as on the host. cache=mmap: no
# page cache for plain reads/writes, so nothing is lost at `poweroff -f` and
# the host sees every write.
if [ -n "${VM_SHARE:-}" ]; then
	mkdir -p "/newroot$VM_SHARE"
	mount -t 9p -o "$p9opts,cache=mmap" kmvmshare "/newroot$VM_SHARE" \
		|| fail "mount share $VM_SHARE"
fi

# The kernel's module tree (unpacked, depmod'ed in the cache), so modprobe
# works. /lib is a relative symlink on Debian, so this lands in /usr/lib.
if [ -n "${VM_MODDIR:-}" ] && [ -d "/newroot$VM_MODDIR" ]; then
	mkdir -p "/newroot/lib/modules/$kver"
	mount --bind "/newroot$VM_MODDIR" "/newroot/lib/modules/$kver" \
		|| fail "bind module tree"
fi

# .NET's test host and kmonitord's tests talk over loopback.
ip link set lo up || fail "lo up"

exec switch_root /newroot "$kvm_bin/busybox" sh "$kvm_bin/init" stage2
