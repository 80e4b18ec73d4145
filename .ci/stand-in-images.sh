#!/usr/bin/env bash
# Build base images for a runner that reaches no container registry: a Python image from a
# Debian bookworm root, and MySQL (Debian sid's Oracle MySQL package) and MariaDB (bookworm)
# images behind an entrypoint that honours the official images' MYSQL_* variables.
# Prints the environment to export. Images are rebuilt only when .ci/ changes.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
mirror=http://deb.debian.org/debian
stamp=$(cat "$here/stand-in-images.sh" "$here"/mysql/* | sha256sum | cut -c1-12)

# fresh NAME: true when image NAME was not built from this version of the scripts.
fresh() {
    [ "$(docker image inspect -f '{{index .Config.Labels "ci.stamp"}}' "$1" 2>/dev/null)" != "$stamp" ]
}

# import ROOT NAME [--change ...]: turn a root file system into an image.
import() {
    local root=$1 name=$2
    shift 2
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
    tar -C "$root" -c . | docker import --change "LABEL ci.stamp=$stamp" "$@" - "$name" >/dev/null
    rm -rf "$root"
    echo "built $name" >&2
}

# debian_root SUITE PACKAGES: a minimal Debian root with PACKAGES installed.
debian_root() {
    local root
    root=$(mktemp -d /var/tmp/ci-root.XXXXXX)
    debootstrap --variant=minbase --include="$2" "$1" "$root" "$mirror" >"$root.log" 2>&1 \
        || { tail -20 "$root.log" >&2; exit 1; }
    rm -f "$root.log"
    echo "$root"
}

# database_root ROOT: add the entrypoint, config and the mysql user the packages do not create.
database_root() {
    local root=$1
    install -m 0755 "$here/mysql/entrypoint.sh" "$root/usr/local/bin/docker-entrypoint.sh"
    mkdir -p "$root/etc/mysql/conf.d" "$root/docker-entrypoint-initdb.d"
    if [ -x "$root/usr/sbin/mariadbd" ]; then
        install -m 0644 "$here/mysql/my.cnf" "$root/etc/mysql/mariadb.conf.d/99-ci-stand-in.cnf"
    else
        install -m 0644 "$here/mysql/my.cnf" "$root/etc/mysql/my.cnf"
    fi
    chroot "$root" sh -c 'id mysql >/dev/null 2>&1 || useradd --system --user-group --home-dir /var/lib/mysql mysql'
}

database_changes=(--change 'ENTRYPOINT ["docker-entrypoint.sh"]' --change 'CMD ["mysqld"]'
    --change 'EXPOSE 3306' --change 'VOLUME /var/lib/mysql' --change 'ENV LANG=C.UTF-8')

python_image=ci-local/python:3-bookworm
if fresh "$python_image"; then
    root=$(debian_root bookworm python3,python3-venv,python3-pip,python-is-python3,ca-certificates)
    # This runner reaches PyPI through its own CA bundle.
    cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
    import "$root" "$python_image" --change 'ENV LANG=C.UTF-8' \
        --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' --change 'CMD ["python3"]'
fi

mysql_image=ci-local/mysql:9.7-sid
if fresh "$mysql_image"; then
    root=$(debian_root sid mysql-server-core,mysql-client-core,tzdata,openssl,passwd,gzip)
    database_root "$root"
    import "$root" "$mysql_image" "${database_changes[@]}"
fi

mariadb_image=ci-local/mariadb:10.11-bookworm
if fresh "$mariadb_image"; then
    root=$(debian_root bookworm mariadb-server,mariadb-client,tzdata,passwd,gzip)
    database_root "$root"
    import "$root" "$mariadb_image" "${database_changes[@]}"
fi

# The Dockerfile names its base literally (Dependabot reads it): where a laptop would use the
# engine's registry mirror, this runner, with no registry at all, tags the stand-in with that
# name. Docker uses a local image without pulling (docker build and compose alike).
base=$(awk '/^FROM /{print $2; exit}' "$here/../Dockerfile")
docker tag "$python_image" "$base"
echo "tagged $python_image as $base" >&2

echo "export MYSQL_IMAGE=$mysql_image MARIADB_IMAGE=$mariadb_image"
