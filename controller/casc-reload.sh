#!/bin/sh
# Sidecar of the Jenkins controller: applies a changed JCasC document without a restart, and says
# how it went. The kubelet refreshes the mounted ConfigMap in place (within about a minute of the
# update); when the file's hash changes, this asks JCasC to reload it. Running builds are not
# touched.
#
# JCasC's reload endpoint (TokenReloadAction, POST /reload-configuration-as-code/ with the form
# parameter casc-reload-token) answers a good reload with an empty 200, a document it refuses
# with a JSON body {"status":"error","message":...} (HTTP 200 in JCasC 2115, which answers through
# HttpResponses.errorJSON; 500 in later releases), a wrong token with 401 and a controller without
# a token with 404. So the body is read, not only the status.
#
# Secrets stay off every command line (/proc/<pid>/cmdline is readable in the pod): the reload
# token and the ServiceAccount token reach curl through its config on stdin (`-K -`), written by
# the shell's builtin printf. Every outcome is a log line and a Kubernetes Event on this pod
# (`kubectl describe pod`), created with the pod's ServiceAccount, which may create events in
# its namespace and nothing more here. After a failure the next try waits twice as long as the
# last, up to MAX_BACKOFF seconds; a newer document is still picked up at that try.
set -u
CASC_FILE=${CASC_FILE:-/var/jenkins_casc/jenkins.yaml}
TOKEN_FILE=${TOKEN_FILE:-/run/secrets/jenkins/casc-reload-token}
JENKINS_URL=${JENKINS_URL:-http://localhost:8080}
INTERVAL=${INTERVAL:-10}
MAX_BACKOFF=${MAX_BACKOFF:-300}
# Bounded runs for tests; 0 watches forever.
MAX_CHECKS=${MAX_CHECKS:-0}
# Where Events go: the API server, this pod's ServiceAccount files, and the pod (downward API).
KUBE_API=${KUBE_API:-https://kubernetes.default.svc}
KUBE_DIR=${KUBE_DIR:-/var/run/secrets/kubernetes.io/serviceaccount}
POD_NAME=${POD_NAME:-}
POD_NAMESPACE=${POD_NAMESPACE:-}
POD_UID=${POD_UID:-}
WORK=${WORK:-${TMPDIR:-/tmp}}

digest() { sha256sum "$CASC_FILE" 2>/dev/null | cut -d' ' -f1; }

# A value for a double-quoted string of curl's config file or of JSON: backslashes and quotes
# escaped, line breaks and tabs made spaces, other control characters dropped.
quoted() { printf '%s' "$1" | tr '\n\r\t' '   ' | tr -d '\000-\037\177' | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'; }

# event TYPE REASON MESSAGE: a core/v1 Event about this pod; a failure to record it is logged only.
event() {
    if [ -z "$POD_NAME" ] || [ -z "$POD_NAMESPACE" ] || [ ! -r "$KUBE_DIR/token" ]; then
        return 0
    fi
    stamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    printf '%s\n' "{\"apiVersion\":\"v1\",\"kind\":\"Event\",\"metadata\":{\"generateName\":\"$POD_NAME.casc-reload-\",\"namespace\":\"$POD_NAMESPACE\"},\"involvedObject\":{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"name\":\"$POD_NAME\",\"namespace\":\"$POD_NAMESPACE\",\"uid\":\"$POD_UID\"},\"type\":\"$1\",\"reason\":\"$2\",\"message\":\"$(quoted "$3")\",\"source\":{\"component\":\"casc-reload\"},\"reportingComponent\":\"jenkins-k8s/casc-reload\",\"reportingInstance\":\"$POD_NAME\",\"firstTimestamp\":\"$stamp\",\"lastTimestamp\":\"$stamp\",\"count\":1}" >"$WORK/casc-event.json"
    code=$(printf 'header = "Authorization: Bearer %s"\n' "$(quoted "$(cat "$KUBE_DIR/token")")" |
        curl -sS -K - --max-time 10 -o /dev/null -w '%{http_code}' --cacert "$KUBE_DIR/ca.crt" \
            -H 'Content-Type: application/json' --data-binary "@$WORK/casc-event.json" \
            "$KUBE_API/api/v1/namespaces/$POD_NAMESPACE/events" 2>"$WORK/casc-event.err")
    if [ "$code" != 201 ]; then
        echo "casc-reload: could not record the event $2 (HTTP $code$(tr '\n' ' ' <"$WORK/casc-event.err"))" >&2
    fi
}

# reload: POSTs the reload; prints nothing and returns 0 when JCasC applied it, else prints why.
reload() {
    code=$(printf 'data-urlencode = "casc-reload-token=%s"\n' "$(quoted "$(cat "$TOKEN_FILE")")" |
        curl -sS -K - --max-time 120 -o "$WORK/casc-reload.body" -w '%{http_code}' \
            "$JENKINS_URL/reload-configuration-as-code/" 2>"$WORK/casc-reload.err")
    # At most 500 characters of it, on one line: an error page can be kilobytes.
    body=$(head -c 500 "$WORK/casc-reload.body" 2>/dev/null | tr '\n\r\t' '   ')
    if printf '%s' "$body" | grep -q '"status" *: *"error"'; then
        # The message string alone (JSON escapes kept), wherever it stands among the keys.
        message=$(printf '%s' "$body" | sed -n 's/.*"message" *: *"\(\([^"\\]\|\\.\)*\)".*/\1/p')
        echo "JCasC refused the document (HTTP $code): ${message:-$body}"
        return 1
    fi
    case "$code" in
        # JCasC answers a good reload with nothing; a 200 with a page (a login form, a proxy's
        # page) is not JCasC saying yes.
        200 | 204)
            if [ -z "$(printf '%s' "$body" | tr -d ' ')" ]; then
                return 0
            fi
            echo "HTTP $code with a body that is not JCasC's answer: $body"
            ;;
        401) echo "the reload token was refused (HTTP 401): Jenkins holds another CASC_RELOAD_TOKEN; restart the controller after rotating it" ;;
        404) echo "reloading is off (HTTP 404): the controller has no CASC_RELOAD_TOKEN" ;;
        000) echo "Jenkins did not answer at $JENKINS_URL ($(tr '\n' ' ' <"$WORK/casc-reload.err" | sed 's/ *$//'))" ;;
        *) echo "HTTP $code from the reload endpoint${body:+: $body}" ;;
    esac
    return 1
}

# The controller applied this version when it started: only later changes need a reload.
last=$(digest)
echo "casc-reload: watching $CASC_FILE (${last:-missing})"
checks=0
wait=$INTERVAL
failures=0
while [ "$MAX_CHECKS" -eq 0 ] || [ "$checks" -lt "$MAX_CHECKS" ]; do
    checks=$((checks + 1))
    sleep "$wait"
    wait=$INTERVAL
    now=$(digest)
    if [ -z "$now" ] || [ "$now" = "$last" ]; then
        failures=0
        continue
    fi
    echo "casc-reload: $CASC_FILE changed ($now), reloading"
    if why=$(reload); then
        last=$now
        failures=0
        echo "casc-reload: applied $now"
        event Normal CascReloaded "JCasC applied the new configuration ($now)"
    else
        failures=$((failures + 1))
        wait=$INTERVAL
        n=1
        while [ "$n" -lt "$failures" ] && [ "$wait" -lt "$MAX_BACKOFF" ]; do
            wait=$((wait * 2))
            n=$((n + 1))
        done
        if [ "$wait" -gt "$MAX_BACKOFF" ]; then
            wait=$MAX_BACKOFF
        fi
        echo "casc-reload: reload of $now failed: $why; retrying in ${wait}s" >&2
        event Warning CascReloadFailed "reload of $now failed: $why; retrying in ${wait}s"
    fi
done
