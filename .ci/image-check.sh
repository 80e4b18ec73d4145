#!/usr/bin/env bash
# make image-check IMAGE: the app image runs as a user that is not root, its command is gunicorn,
# and it holds no .env file, no git history and no AWS configuration.
set -euo pipefail
image=${1:?usage: image-check.sh IMAGE}
fail() { echo "image-check: $image: $*" >&2; exit 1; }

user=$(docker image inspect --format '{{.Config.User}}' "$image") \
    || fail "no such image (make image builds it)"
case "$user" in
    "" | 0 | 0:* | root | root:*) fail "USER is '${user:-unset}': the runtime stage needs USER 10001:10001" ;;
esac
uid=$(docker run --rm --entrypoint id "$image" -u)
[ "$uid" != 0 ] || fail "id -u in a container is 0"
command=$(docker image inspect --format '{{json .Config.Cmd}}' "$image")
[[ $command == '["gunicorn",'* ]] || fail "its command is $command, not gunicorn"
found=$(docker run --rm --entrypoint find "$image" / -xdev \( -name '.env*' -o -name .git \
    -o -name .aws -o -name '*.pem' -path '/srv/*' \) -not -path '/proc/*' -print 2>/dev/null || true)
[ -z "$found" ] || fail "it holds files that must stay out: $found"
echo "image-check: $image runs as $user (uid $uid), command $command, no .env/.git/.aws inside"
