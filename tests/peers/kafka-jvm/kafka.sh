#!/usr/bin/env bash
# Start and stop a single-node Apache Kafka (KRaft, JVM) broker as a test peer.
#
#   tests/peers/kafka-jvm/kafka.sh start [key=value ...]   # extra broker settings
#   tests/peers/kafka-jvm/kafka.sh stop
#   tests/peers/kafka-jvm/kafka.sh status
#
# Environment:
#   KAFKA_JVM_PORT        client listener port            (default 19092)
#   KAFKA_JVM_CTRL_PORT   controller listener port        (default PORT+1)
#   KAFKA_JVM_DIR         state folder: server.properties, data/, broker.log,
#                         broker.pid                      (default /tmp/tidal-kafka-jvm-PORT)
#   KAFKA_JVM_HEAP        -Xmx                            (default 1g)
#   KAFKA_JVM_LIBS        jar folder (see fetch.sh)
#
# "start" fetches the jars if needed, writes server.properties, formats a fresh
# log directory (any previous data in KAFKA_JVM_DIR is removed), starts the
# broker in the background and returns once it accepts connections. It prints
# "bootstrap=127.0.0.1:PORT" and "log.dirs=DIR" on stdout. "stop" ends the
# broker it started (by the pid it recorded) and keeps the state folder, so a
# test can read segment files after a clean shutdown.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
port="${KAFKA_JVM_PORT:-19092}"
ctrl_port="${KAFKA_JVM_CTRL_PORT:-$((port + 1))}"
dir="${KAFKA_JVM_DIR:-/tmp/tidal-kafka-jvm-$port}"
pidfile="$dir/broker.pid"

running() {
    [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

start() {
    if running; then
        echo "broker already running (pid $(cat "$pidfile"))" >&2
        exit 1
    fi
    if port_open; then
        echo "port $port is already in use" >&2
        exit 1
    fi
    local libs
    libs="$("$here/fetch.sh")"
    # Never wipe a folder this script did not make.
    if [[ -d "$dir" && -n "$(ls -A "$dir")" && ! -f "$dir/server.properties" ]]; then
        echo "$dir is not empty and holds no server.properties; not wiping it" >&2
        exit 1
    fi
    rm -rf "$dir"
    mkdir -p "$dir/data"
    {
        cat <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$ctrl_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$ctrl_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
PROPS
        for kv in "$@"; do echo "$kv"; done
    } >"$dir/server.properties"

    local java_opts=(-Xmx"${KAFKA_JVM_HEAP:-1g}" -XX:+UseG1GC
        -Dlog4j2.configurationFile="$here/log4j2.properties")
    local cluster_id
    cluster_id="$(java -cp "$libs/*" "${java_opts[@]}" kafka.tools.StorageTool random-uuid)"
    java -cp "$libs/*" "${java_opts[@]}" kafka.tools.StorageTool format \
        -t "$cluster_id" -c "$dir/server.properties" >"$dir/format.log" 2>&1 \
        || { cat "$dir/format.log" >&2; exit 1; }

    nohup java -cp "$libs/*" "${java_opts[@]}" kafka.Kafka "$dir/server.properties" \
        >"$dir/broker.log" 2>&1 </dev/null &
    echo $! >"$pidfile"

    local deadline=$((SECONDS + ${KAFKA_JVM_START_TIMEOUT:-120}))
    until port_open && grep -q "Kafka Server started" "$dir/broker.log"; do
        if ! running; then
            echo "broker exited during start; log follows" >&2
            cat "$dir/broker.log" >&2
            exit 1
        fi
        if ((SECONDS > deadline)); then
            echo "broker did not start in time; see $dir/broker.log" >&2
            stop
            exit 1
        fi
        sleep 0.5
    done
    echo "bootstrap=127.0.0.1:$port"
    echo "log.dirs=$dir/data"
}

stop() {
    if ! running; then
        rm -f "$pidfile"
        return 0
    fi
    local pid
    pid="$(cat "$pidfile")"
    kill -TERM "$pid"
    for _ in $(seq 1 120); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "broker $pid ignored SIGTERM for 60 s; killing it" >&2
        kill -KILL "$pid"
    fi
    rm -f "$pidfile"
}

case "${1:-}" in
start) shift; start "$@" ;;
stop) stop ;;
status)
    if running; then echo "running pid=$(cat "$pidfile") bootstrap=127.0.0.1:$port"
    else echo "stopped"; exit 3; fi ;;
*) echo "usage: $0 start [key=value ...] | stop | status" >&2; exit 2 ;;
esac
