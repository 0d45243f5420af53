#!/usr/bin/env bash
# Build the lab node image for one Debian suite, from nothing, without a container registry:
# debootstrap a rootfs (systemd, python3, openssh-server, sudo), put Debian's etcd packages into a
# local apt repository inside it (so the deploy role's "install if missing" path runs for real,
# postinst auto-start included), and `docker import` the result.
#
# The image is tagged etcd-ops-lab:<suite> and labelled with the sha256 of this script and of the two files of tests/lab/image/;
# it is rebuilt only when this recipe changes (or with FORCE=1).
#
# usage: tests/lab/build-image.sh bookworm|trixie
set -euo pipefail

suite=${1:?usage: $0 bookworm|trixie}
case "$suite" in bookworm|trixie|sid) ;; *) echo "unknown suite: $suite" >&2; exit 2 ;; esac
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
image="etcd-ops-lab:$suite"
here=$(cd "$(dirname "$0")" && pwd)
# what the image takes from tests/lab/image/ (below): part of the recipe
image_files=("$here/image/etcd_ops_lab_zipcache.py" "$here/image/etcd_ops_lab_zipcache.pth")
recipe=$(cat "$0" "${image_files[@]}" | sha256sum | cut -c1-16)

have=$(docker image inspect -f '{{ index .Config.Labels "etcd-ops.recipe" }}' "$image" 2>/dev/null || true)
if [ "$have" = "$recipe" ] && [ -z "${FORCE:-}" ]; then
  echo "image $image is up to date (recipe $recipe)"
  exit 0
fi

work=$(mktemp -d "/var/tmp/etcd-ops-lab-$suite.XXXXXX")
root="$work/rootfs"
cleanup() {
  for m in proc sys dev/pts dev; do umount -l "$root/$m" 2>/dev/null || true; done
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT

start=$(date +%s)
echo "building $image (recipe $recipe) in $work"
debootstrap --variant=minbase --merged-usr \
  --include=systemd,systemd-sysv,dbus,python3,python3-apt,openssh-server,sudo,iproute2,procps,ca-certificates,apt-utils \
  "$suite" "$root" "$mirror" > "$work/debootstrap.log" 2>&1 || { tail -30 "$work/debootstrap.log"; exit 1; }

in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
mount -t proc proc "$root/proc"

# etcd's packages and their dependencies, downloaded but not installed, served from a local repository; with them
# zstd and age, which the controller container (tests/lab/cores.sh, trixie) installs from there.
echo "deb $mirror $suite main" > "$root/etc/apt/sources.list"
in_root apt-get -qq update
in_root apt-get clean
in_root apt-get -qq install --download-only -y etcd-server etcd-client zstd age
mkdir -p "$root/opt/lab-repo"
mv "$root"/var/cache/apt/archives/*.deb "$root/opt/lab-repo/"
(cd "$root/opt/lab-repo" && in_root sh -c 'cd /opt/lab-repo && apt-ftparchive packages . > Packages')
echo "deb [trusted=yes] file:/opt/lab-repo ./" > "$root/etc/apt/sources.list"
rm -rf "$root"/var/lib/apt/lists/*
in_root apt-get -qq update
debs=("$root"/opt/lab-repo/*.deb)
echo "local repository: ${#debs[@]} packages"

# Users: ops (passwordless sudo, as users reach their hosts) and nosudo (no sudo at all, for refusals).
in_root useradd -m -s /bin/bash ops
in_root useradd -m -s /bin/bash nosudo
echo 'ops ALL=(ALL) NOPASSWD:ALL' > "$root/etc/sudoers.d/ops"
chmod 0440 "$root/etc/sudoers.d/ops"
for u in ops nosudo; do
  install -d -m 0700 "$root/home/$u/.ssh"
  in_root chown "$u:$u" "/home/$u/.ssh"
done
# authorized_keys is bind-mounted at container creation; allow key logins only.
cat > "$root/etc/ssh/sshd_config.d/lab.conf" <<'CONF'
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
CONF
in_root systemctl enable ssh.service >/dev/null 2>&1 || true

# The cache of the code compiled from Ansible modules' payloads (tests/lab/image/etcd_ops_lab_zipcache.py says what
# it keeps and when it is off): a quarter to a third less of the members' CPU per playbook run. bench/run.py turns it off.
install -m 0644 "${image_files[@]}" "$root/usr/lib/python3/dist-packages/"
install -d -m 1777 "$root/var/cache/etcd-ops-lab-pyc"

# A quiet, quick container boot.
for unit in getty@tty1.service console-getty.service systemd-udevd.service systemd-udevd-control.socket \
    systemd-udevd-kernel.socket systemd-modules-load.service sys-kernel-config.mount sys-kernel-debug.mount \
    systemd-remount-fs.service systemd-timesyncd.service apt-daily.timer apt-daily-upgrade.timer; do
  ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
: > "$root/etc/machine-id"
rm -f "$root/etc/hostname"
umount -l "$root/proc"
in_root apt-get clean
rm -rf "$root"/var/lib/apt/lists/*_Packages.* 2>/dev/null || true
in_root apt-get -qq update

tar -C "$root" --numeric-owner -c . | docker import \
  --change 'CMD ["/lib/systemd/systemd"]' \
  --change 'ENV container=docker' \
  --change "LABEL etcd-ops.recipe=$recipe etcd-ops.suite=$suite" \
  - "$image" >/dev/null
echo "built $image in $(( $(date +%s) - start ))s ($(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%d MB", $1/1e6}'))"
