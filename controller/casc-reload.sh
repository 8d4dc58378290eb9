#!/bin/sh
# Sidecar of the Jenkins controller: applies a changed JCasC document without a restart.
# The kubelet refreshes the mounted ConfigMap in place (within about a minute of the update);
# when the file's hash changes, this asks JCasC to reload it. Running builds are not touched.
set -u
CASC_FILE=${CASC_FILE:-/var/jenkins_casc/jenkins.yaml}
TOKEN_FILE=${TOKEN_FILE:-/run/secrets/jenkins/casc-reload-token}
JENKINS_URL=${JENKINS_URL:-http://localhost:8080}
INTERVAL=${INTERVAL:-10}
# Bounded runs for tests; 0 watches forever.
MAX_CHECKS=${MAX_CHECKS:-0}

digest() { sha256sum "$CASC_FILE" 2>/dev/null | cut -d' ' -f1; }

# The controller applied this version when it started: only later changes need a reload.
last=$(digest)
echo "casc-reload: watching $CASC_FILE (${last:-missing})"
checks=0
while [ "$MAX_CHECKS" -eq 0 ] || [ "$checks" -lt "$MAX_CHECKS" ]; do
    checks=$((checks + 1))
    sleep "$INTERVAL"
    now=$(digest)
    if [ -z "$now" ] || [ "$now" = "$last" ]; then
        continue
    fi
    echo "casc-reload: $CASC_FILE changed ($now), reloading"
    # The token travels in the query string, as the JCasC endpoint expects. Jenkins reads its copy
    # once, at start (-Dcasc.reload.token), so a new token needs a controller restart as well.
    if curl -fsS -o /dev/null -X POST --retry 5 --retry-connrefused --retry-delay 5 \
        "$JENKINS_URL/reload-configuration-as-code/?casc-reload-token=$(cat "$TOKEN_FILE")"; then
        last=$now
        echo "casc-reload: applied $now"
    else
        echo "casc-reload: reload failed; retrying on the next check" >&2
    fi
done
