#!/bin/bash
# Stand-in for the official mysql image's entrypoint, for CI images built from Debian packages.
# Honours the same MYSQL_* variables and /docker-entrypoint-initdb.d, prints "ready for
# connections" once for the temporary init server and once for the real one, as the official
# image does, so docker-compose.yml and testcontainers run unchanged against it.
set -eo pipefail

note() { echo "[Entrypoint] $*"; }

if [ "${1:0:1}" = '-' ]; then
    set -- mysqld "$@"
fi
if [ "$1" != mysqld ] && [ "$1" != mariadbd ]; then
    exec "$@"
fi
if command -v mariadbd >/dev/null; then
    set -- mariadbd "${@:2}"
    client=mariadb
else
    client=mysql
fi

datadir=/var/lib/mysql
socket=/var/run/mysqld/mysqld.sock
mkdir -p /var/run/mysqld /var/lib/mysql-files "$datadir"
chown mysql:mysql /var/run/mysqld /var/lib/mysql-files "$datadir"

_mysql_passfile() {
    if [ '--dont-use-mysql-root-password' != "${1:-}" ] && [ -n "$MYSQL_ROOT_PASSWORD" ]; then
        printf '[client]\npassword="%s"\n' "$MYSQL_ROOT_PASSWORD"
    fi
}

# Same name and contract as the official entrypoint's helper, for *.sh init scripts.
docker_process_sql() {
    local passfile_args=()
    if [ '--dont-use-mysql-root-password' = "${1:-}" ]; then
        passfile_args+=("$1")
        shift
    fi
    if [ -n "${MYSQL_DATABASE:-}" ]; then
        set -- --database="$MYSQL_DATABASE" "$@"
    fi
    "$client" --defaults-extra-file=<(_mysql_passfile "${passfile_args[@]}") \
        -uroot -hlocalhost --socket="$socket" --comments "$@"
}

sql_escape() { printf '%s' "${1//\'/\'\'}"; }

initialize() {
    : "${MYSQL_ROOT_PASSWORD:=}"
    if [ -z "$MYSQL_ROOT_PASSWORD" ] && [ -z "${MYSQL_ALLOW_EMPTY_PASSWORD:-}" ] \
        && [ -z "${MYSQL_RANDOM_ROOT_PASSWORD:-}" ]; then
        echo >&2 "[Entrypoint] error: database is uninitialized and password option is not specified"
        echo >&2 "    You need to specify one of MYSQL_ROOT_PASSWORD, MYSQL_ALLOW_EMPTY_PASSWORD and MYSQL_RANDOM_ROOT_PASSWORD"
        exit 1
    fi
    if [ -n "${MYSQL_RANDOM_ROOT_PASSWORD:-}" ]; then
        MYSQL_ROOT_PASSWORD=$(head -c 24 /dev/urandom | base64)
        note "GENERATED ROOT PASSWORD: $MYSQL_ROOT_PASSWORD"
    fi

    note "Initializing database files"
    if [ "$client" = mariadb ]; then
        mariadb-install-db --user=mysql --datadir="$datadir" --auth-root-authentication-method=normal \
            --skip-test-db >/dev/null
    else
        "$@" --initialize-insecure --user=mysql --datadir="$datadir"
    fi

    note "Starting temporary server"
    "$@" --user=mysql --datadir="$datadir" --skip-networking --socket="$socket" &
    local pid=$!
    for _ in $(seq 60); do
        "$client"admin --socket="$socket" -uroot ping >/dev/null 2>&1 && break
        [ "$client" = mariadb ] && mariadb-admin --socket="$socket" -uroot ping >/dev/null 2>&1 && break
        sleep 1
    done

    if [ -z "${MYSQL_INITDB_SKIP_TZINFO:-}" ] && command -v "${client}_tzinfo_to_sql" >/dev/null \
        && [ -d /usr/share/zoneinfo ]; then
        "${client}_tzinfo_to_sql" /usr/share/zoneinfo 2>/dev/null \
            | MYSQL_DATABASE='' docker_process_sql --dont-use-mysql-root-password --database=mysql
    fi

    local root_host=${MYSQL_ROOT_HOST:-%}
    local root_pw
    root_pw=$(sql_escape "$MYSQL_ROOT_PASSWORD")
    {
        echo "SET @@SESSION.SQL_LOG_BIN=0;"
        echo "ALTER USER 'root'@'localhost' IDENTIFIED BY '$root_pw';"
        if [ "$root_host" != localhost ]; then
            echo "CREATE USER 'root'@'$root_host' IDENTIFIED BY '$root_pw';"
            echo "GRANT ALL ON *.* TO 'root'@'$root_host' WITH GRANT OPTION;"
        fi
        if [ -n "${MYSQL_DATABASE:-}" ]; then
            echo "CREATE DATABASE IF NOT EXISTS \`$MYSQL_DATABASE\`;"
        fi
        if [ -n "${MYSQL_USER:-}" ] && [ -n "${MYSQL_PASSWORD:-}" ]; then
            echo "CREATE USER '$MYSQL_USER'@'%' IDENTIFIED BY '$(sql_escape "$MYSQL_PASSWORD")';"
            if [ -n "${MYSQL_DATABASE:-}" ]; then
                echo "GRANT ALL ON \`$(sql_escape "$MYSQL_DATABASE")\`.* TO '$MYSQL_USER'@'%';"
            fi
        fi
        echo "FLUSH PRIVILEGES;"
    } | MYSQL_DATABASE='' docker_process_sql --dont-use-mysql-root-password

    local f
    for f in /docker-entrypoint-initdb.d/*; do
        case "$f" in
            *.sh) note "running $f"; . "$f" ;;
            *.sql) note "running $f"; docker_process_sql <"$f" ;;
            *.sql.gz) note "running $f"; gunzip -c "$f" | docker_process_sql ;;
            *) [ -e "$f" ] && note "ignoring $f" ;;
        esac
    done

    note "Stopping temporary server"
    kill "$pid"
    wait "$pid" || true
    note "Temporary server stopped"
    note "MySQL init process done. Ready for start up."
}

if [ ! -d "$datadir/mysql" ]; then
    initialize "$@"
fi
exec "$@" --user=mysql --datadir="$datadir"
