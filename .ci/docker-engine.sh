#!/usr/bin/env bash
# Install and start a Docker engine with the Compose v2 plugin on a Debian 12 runner.
# Bookworm ships only Compose v1, so the v2 plugin (one static binary) comes from sid's .deb.
set -eu

export DEBIAN_FRONTEND=noninteractive
if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null || ! command -v wrk >/dev/null; then
    apt-get update -q
    apt-get install -y -q --no-install-recommends docker.io debootstrap wrk iproute2 >/dev/null
fi

plugin="$HOME/.docker/cli-plugins/docker-compose"
if ! docker compose version >/dev/null 2>&1; then
    work=$(mktemp -d)
    mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
    echo "deb http://deb.debian.org/debian sid main" >"$work/sources.list"
    sid_apt=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/nonexistent
        -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache"
        -o Acquire::Check-Valid-Until=false)
    apt-get "${sid_apt[@]}" update -q >/dev/null
    (cd "$work" && apt-get "${sid_apt[@]}" download docker-compose >/dev/null 2>&1)
    dpkg -x "$work"/docker-compose_*.deb "$work/root"
    install -D -m 0755 "$work/root/usr/libexec/docker/cli-plugins/docker-compose" "$plugin"
    rm -rf "$work"
fi

if ! docker info >/dev/null 2>&1; then
    echo "starting dockerd (log: /var/log/dockerd.log)"
    nohup dockerd >/var/log/dockerd.log 2>&1 &
    for _ in $(seq 60); do
        docker info >/dev/null 2>&1 && break
        sleep 1
    done
fi
docker info --format 'docker engine {{.ServerVersion}}, storage {{.Driver}}'
docker compose version
