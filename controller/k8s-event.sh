# Sourced by the controller pod's scripts: records a Kubernetes Event about the pod, so what a
# script did shows in `kubectl describe pod` and `kubectl get events`. It posts with the pod's
# ServiceAccount, which may create events in its namespace and nothing more here. The token
# reaches curl through its config on stdin (`-K -`), never a command line.
#
# Env: EVENT_COMPONENT (who reports: casc-reload, install-plugins), POD_NAME, POD_NAMESPACE,
# POD_UID (downward API), KUBE_API [https://kubernetes.default.svc], KUBE_DIR [the
# ServiceAccount's files], WORK [a writable folder]. Without a pod or a token it records nothing.
KUBE_API=${KUBE_API:-https://kubernetes.default.svc}
KUBE_DIR=${KUBE_DIR:-/var/run/secrets/kubernetes.io/serviceaccount}
POD_NAME=${POD_NAME:-}
POD_NAMESPACE=${POD_NAMESPACE:-}
POD_UID=${POD_UID:-}
WORK=${WORK:-${TMPDIR:-/tmp}}

# A value for a double-quoted string of curl's config file or of JSON: backslashes and quotes
# escaped, line breaks and tabs made spaces, other control characters dropped.
quoted() { printf '%s' "$1" | tr '\n\r\t' '   ' | tr -d '\000-\037\177' | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'; }

# event TYPE REASON MESSAGE: a core/v1 Event about this pod; a failure to record it (the API
# server unreachable, curl failing) is logged only, never the caller's failure (set -e).
event() {
    if [ -z "$POD_NAME" ] || [ -z "$POD_NAMESPACE" ] || [ ! -r "$KUBE_DIR/token" ]; then
        return 0
    fi
    stamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    printf '%s\n' "{\"apiVersion\":\"v1\",\"kind\":\"Event\",\"metadata\":{\"generateName\":\"$POD_NAME.$EVENT_COMPONENT-\",\"namespace\":\"$POD_NAMESPACE\"},\"involvedObject\":{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"name\":\"$POD_NAME\",\"namespace\":\"$POD_NAMESPACE\",\"uid\":\"$POD_UID\"},\"type\":\"$1\",\"reason\":\"$2\",\"message\":\"$(quoted "$3")\",\"source\":{\"component\":\"$EVENT_COMPONENT\"},\"reportingComponent\":\"jenkins-k8s/$EVENT_COMPONENT\",\"reportingInstance\":\"$POD_NAME\",\"firstTimestamp\":\"$stamp\",\"lastTimestamp\":\"$stamp\",\"count\":1}" >"$WORK/$EVENT_COMPONENT-event.json"
    code=$(printf 'header = "Authorization: Bearer %s"\n' "$(quoted "$(cat "$KUBE_DIR/token")")" |
        curl -sS -K - --max-time 10 -o /dev/null -w '%{http_code}' --cacert "$KUBE_DIR/ca.crt" \
            -H 'Content-Type: application/json' --data-binary "@$WORK/$EVENT_COMPONENT-event.json" \
            "$KUBE_API/api/v1/namespaces/$POD_NAMESPACE/events" 2>"$WORK/$EVENT_COMPONENT-event.err") || code=000
    if [ "$code" != 201 ]; then
        echo "$EVENT_COMPONENT: could not record the event $2 (HTTP $code$(tr '\n' ' ' <"$WORK/$EVENT_COMPONENT-event.err"))" >&2
    fi
}
