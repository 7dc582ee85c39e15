#!/usr/bin/env bash
# The base image recipe: a Debian 12 root file system shaped like a Debian EC2 AMI, with systemd as PID 1.
# Usage: rootfs.sh ROOTFS MIRROR CA_DIR. Its content (with the CA certificates) is the image cache key:
# change a line here and `ci localcloud up` builds a new image.
set -euo pipefail
rootfs=$1 mirror=$2 ca_dir=$3
suite=bookworm
packages=systemd,systemd-sysv,dbus,openssh-server,sudo,python3,python3-apt,iproute2,procps,ca-certificates,netbase,locales,less

debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror"

# Each container must get its own machine id and SSH host keys (generated at first boot).
: > "$rootfs/etc/machine-id"
rm -f "$rootfs/var/lib/dbus/machine-id" "$rootfs"/etc/ssh/ssh_host_*
mkdir -p "$rootfs/etc/systemd/system/ssh.service.d"
cat > "$rootfs/etc/systemd/system/ssh.service.d/host-keys.conf" <<'UNIT'
[Service]
ExecStartPre=
ExecStartPre=/usr/bin/ssh-keygen -A
ExecStartPre=/usr/sbin/sshd -t
UNIT

# Units that make no sense in a container (or slow its boot) are masked.
for unit in getty@tty1.service console-getty.service e2scrub_all.timer e2scrub_reap.service fstrim.timer \
    apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer systemd-pstore.service \
    systemd-remount-fs.service sys-kernel-debug.mount sys-kernel-tracing.mount; do
  ln -sf /dev/null "$rootfs/etc/systemd/system/$unit"
done

# The apt sources the hosts use, and an empty, old package index: Ansible's cache_valid_time then updates it.
echo "deb $mirror $suite main" > "$rootfs/etc/apt/sources.list"
echo "deb $mirror $suite-updates main" >> "$rootfs/etc/apt/sources.list"
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb
touch -d @0 "$rootfs/var/lib/apt/lists"

# The machine's local CA certificates (egress may intercept TLS), so pip/uv over HTTPS work in the hosts.
if compgen -G "$ca_dir/*.crt" >/dev/null; then
  cp "$ca_dir"/*.crt "$rootfs/usr/local/share/ca-certificates/"
  chroot "$rootfs" update-ca-certificates >/dev/null
fi

# The login user of Debian AMIs: admin, passwordless sudo, key installed at container start (authorized_keys).
chroot "$rootfs" useradd --create-home --shell /bin/bash --groups sudo admin
echo 'admin ALL=(ALL) NOPASSWD:ALL' > "$rootfs/etc/sudoers.d/90-admin"
chmod 0440 "$rootfs/etc/sudoers.d/90-admin"
install -d -m 0700 -o 1000 -g 1000 "$rootfs/home/admin/.ssh"
sed -i 's/^# *en_US.UTF-8/en_US.UTF-8/' "$rootfs/etc/locale.gen" && chroot "$rootfs" locale-gen >/dev/null
