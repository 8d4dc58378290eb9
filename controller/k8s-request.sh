# Sourced by the CronJobs' scripts (backup-home.sh, reap-agents.sh) after k8s-event.sh, which sets
# KUBE_API, KUBE_DIR and WORK and defines `quoted`; EVENT_COMPONENT names the caller.
#
# request METHOD URL [BODY-FILE]: prints the HTTP status; the answer is in $WORK/answer.json,
# compact (not as "curl": the API server pretty-prints JSON for a curl user agent, and the
# callers read the compact form). The token reaches curl through its config on stdin, never a
# command line.
request() {
    printf 'header = "Authorization: Bearer %s"\n' "$(quoted "$(cat "$KUBE_DIR/token")")" |
        curl -sS -K - --max-time 60 -A "jenkins-k8s/${EVENT_COMPONENT:?}" -X "$1" -o "$WORK/answer.json" -w '%{http_code}' \
            --cacert "$KUBE_DIR/ca.crt" -H 'Content-Type: application/json' ${3:+--data-binary "@$3"} "$2"
}
