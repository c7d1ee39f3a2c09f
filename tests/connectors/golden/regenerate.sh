#!/usr/bin/env bash
# Rewrite the *_golden.json files in this folder from Apache Kafka's own classes.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
libs="$(bash "$here/../../peers/kafka-jvm/fetch.sh")"
build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
javac -d "$build" -cp "$libs/*" "$here/KafkaGolden.java"
java -cp "$build:$libs/*" KafkaGolden "$here"
