#!/usr/bin/env bash
# Resolve the Apache Kafka Connect worker (ConnectStandalone, ConnectDistributed) and
# the FileStream connectors from Maven Central into one folder of jars, printed on
# stdout. The broker itself comes from tests/peers/kafka-jvm.
#
#   tests/peers/kafka-connect/fetch.sh            # -> prints the jar folder
#   KAFKA_CONNECT_LIBS=/some/dir fetch.sh         # choose the folder
#
# The folder defaults to ${XDG_CACHE_HOME:-~/.cache}/tidal/kafka-connect-<version>;
# Maven's local repository (~/.m2) caches the downloads themselves. Rerunning is
# cheap: an already complete folder is reused. Needs Java 17+ and Maven.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")"
libs="${KAFKA_CONNECT_LIBS:-${XDG_CACHE_HOME:-$HOME/.cache}/tidal/kafka-connect-$version}"

# The folder is complete when it was filled from this very pom.xml.
stamp="$(sha256sum "$here/pom.xml" | cut -d' ' -f1)"
if [[ "$(cat "$libs/.complete" 2>/dev/null)" != "$stamp" ]]; then
    rm -rf "$libs"
    mkdir -p "$libs"
    mvn -q -B -Dstyle.color=never -f "$here/pom.xml" dependency:copy-dependencies \
        -DoutputDirectory="$libs" -DincludeScope=runtime >&2
    echo "$stamp" >"$libs/.complete"
fi
echo "$libs"
