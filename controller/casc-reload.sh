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
# (`kubectl describe pod`; k8s-event.sh). After a failure the next try waits twice as long as the
# last, up to MAX_BACKOFF seconds; a newer document is still picked up at that try.
#
# With RELOAD_AT_START=1 it also applies the document once more whenever Jenkins answers again
# after a start (its own, or the jenkins container's restart, which it sees as Jenkins not
# answering): at a start JCasC runs before Jenkins loads its items (core Jenkins.loadTasks), so
# the folders its Job DSL script makes then are dropped from memory until a reload, and a
# deletion it asks for waits for the items to be loaded (jcasc/security.ts). While Jenkins does
# not answer, it tries no reload.
set -u
CASC_FILE=${CASC_FILE:-/var/jenkins_casc/jenkins.yaml}
TOKEN_FILE=${TOKEN_FILE:-/run/secrets/jenkins-k8s/controller/casc-reload-token}
JENKINS_URL=${JENKINS_URL:-http://localhost:8080}
INTERVAL=${INTERVAL:-10}
MAX_BACKOFF=${MAX_BACKOFF:-300}
# Bounded runs for tests; 0 watches forever.
MAX_CHECKS=${MAX_CHECKS:-0}
WORK=${WORK:-${TMPDIR:-/tmp}}
EVENT_COMPONENT=casc-reload
# event TYPE REASON MESSAGE, and quoted VALUE (k8s-event.sh, mounted beside this script).
. "$(dirname "$0")/k8s-event.sh"

digest() { sha256sum "$CASC_FILE" 2>/dev/null | cut -d' ' -f1; }

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

# ready: Jenkins answers its login page as the pod's probes take it, 2xx or 3xx (a sign-in
# elsewhere may redirect); it answers 503 while it starts.
ready() {
    code=$(curl -s -o /dev/null --max-time 10 -w '%{http_code}' "$JENKINS_URL/login" 2>/dev/null)
    [ "${code:-0}" -ge 200 ] 2>/dev/null && [ "$code" -lt 400 ]
}

# The controller applied this version when it started: only later changes need a reload, but for
# the one after the start.
last=$(digest)
echo "casc-reload: watching $CASC_FILE (${last:-missing})"
checks=0
wait=$INTERVAL
failures=0
start=""
# Whether Jenkins answered at the last check (with RELOAD_AT_START).
up=0
while [ "$MAX_CHECKS" -eq 0 ] || [ "$checks" -lt "$MAX_CHECKS" ]; do
    checks=$((checks + 1))
    sleep "$wait"
    wait=$INTERVAL
    if [ "${RELOAD_AT_START:-0}" = 1 ]; then
        if ! ready; then
            if [ "$up" = 1 ]; then
                echo "casc-reload: Jenkins stopped answering; applying $CASC_FILE again once it is back"
            fi
            up=0
            continue
        fi
        if [ "$up" = 0 ]; then
            echo "casc-reload: Jenkins is up; applying $CASC_FILE again, now that its items are loaded"
            up=1
            start=1
            last=""
        fi
    fi
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
        if [ -n "$start" ]; then
            event Normal CascReloaded "JCasC applied the configuration again after the start, with the items loaded ($now)"
        else
            event Normal CascReloaded "JCasC applied the new configuration ($now)"
        fi
        start=""
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
