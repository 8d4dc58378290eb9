#!/bin/sh
# The agent reaper CronJob: deletes the agent pods that nothing else will, in each agent tier's
# namespace, so a stuck pod does not hold its quota, its node or its claim for ever:
#   - Pending for longer than STUCK_SECONDS: unschedulable, an image that cannot be pulled, an
#     agent that never connected (the plugin gives up on it after its slaveConnectTimeout, but
#     deletes it only while the controller is healthy);
#   - finished (Succeeded, Failed: the kubelet fails a pod past its activeDeadlineSeconds) for
#     longer than STUCK_SECONDS since it was made: podRetention keeps them for a look, not for good;
#   - Running past its activeDeadlineSeconds by more than GRACE_SECONDS (a kubelet that did not
#     enforce it).
# Every pod in those namespaces is an agent pod: nothing else is admitted there.
#
# It talks to the API server with its own ServiceAccount, which may list and delete pods in the
# agent namespaces and nothing else; the token reaches curl on stdin (-K -). A delete names the
# pod's uid, so a new pod of the same name is never the one deleted.
#
# Env: NAMESPACES (space-separated), STUCK_SECONDS [1800], GRACE_SECONDS [300], NOW [the clock,
# epoch seconds], and k8s-event.sh's KUBE_API, KUBE_DIR, WORK.
set -eu
NAMESPACES=${NAMESPACES:?}
STUCK_SECONDS=${STUCK_SECONDS:-1800}
GRACE_SECONDS=${GRACE_SECONDS:-300}
EVENT_COMPONENT=agent-reaper
. "$(dirname "$0")/k8s-event.sh"
NOW=${NOW:-$(date -u +%s)}

log() { printf 'reap-agents: %s\n' "$*"; }

# request METHOD URL [BODY-FILE]: prints the HTTP status; the answer is in $WORK/answer.json,
# compact (not as "curl": the API server pretty-prints JSON for a curl user agent).
request() {
    printf 'header = "Authorization: Bearer %s"\n' "$(quoted "$(cat "$KUBE_DIR/token")")" |
        curl -sS -K - --max-time 60 -A jenkins-k8s/agent-reaper -X "$1" -o "$WORK/answer.json" -w '%{http_code}' \
            --cacert "$KUBE_DIR/ca.crt" -H 'Content-Type: application/json' ${3:+--data-binary "@$3"} "$2"
}

# epoch TIMESTAMP: seconds since 1970 of an RFC 3339 UTC time (GNU date, or busybox's).
epoch() { date -u -d "$1" +%s 2>/dev/null || date -u -D '%Y-%m-%dT%H:%M:%SZ' -d "$1" +%s; }

# field NAME: the first "NAME":"value" (or number) of the pod on stdin. Quotes inside JSON strings
# are escaped, so a label or annotation cannot fake one; managedFields spell them "f:NAME".
field() { grep -o "\"$1\":\"\{0,1\}[^\",}]*" | head -n 1 | sed "s/^\"$1\":\"\{0,1\}//"; }

failed=0
deleted=0
for ns in $NAMESPACES; do
    code=$(request GET "$KUBE_API/api/v1/namespaces/$ns/pods")
    if [ "$code" != 200 ]; then
        log "ERROR: could not list the pods of $ns (HTTP $code): $(head -c 300 "$WORK/answer.json")" >&2
        failed=1
        continue
    fi
    # One pod a line: an item starts with its metadata, and `},{"metadata":{` cannot occur inside
    # a JSON string.
    sed -e 's/^{"kind":"PodList","apiVersion":"v1","metadata":{[^}]*},"items":\[//' \
        -e 's/},{"metadata":{/}\n{"metadata":{/g' "$WORK/answer.json" |
        grep '^{"metadata":{' >"$WORK/pods" || true
    while IFS= read -r pod; do
        name=$(printf '%s' "$pod" | field name)
        uid=$(printf '%s' "$pod" | field uid)
        phase=$(printf '%s' "$pod" | field phase)
        created=$(epoch "$(printf '%s' "$pod" | field creationTimestamp)")
        why=
        case "$phase" in
            Pending)
                if [ $((NOW - created)) -gt "$STUCK_SECONDS" ]; then
                    reason=$(printf '%s' "$pod" | sed -n 's/.*"waiting":{"reason":"\([^"]*\)".*/\1/p; s/.*"reason":"\(Unschedulable\)".*/\1/p' | head -n 1)
                    why="Pending for $((NOW - created)) s${reason:+ ($reason)}"
                fi
                ;;
            Succeeded | Failed | Unknown)
                if [ $((NOW - created)) -gt "$STUCK_SECONDS" ]; then
                    why="$phase, made $((NOW - created)) s ago"
                fi
                ;;
            Running)
                deadline=$(printf '%s' "$pod" | field activeDeadlineSeconds)
                started=$(printf '%s' "$pod" | field startTime)
                if [ -n "$deadline" ] && [ -n "$started" ]; then
                    over=$((NOW - $(epoch "$started") - deadline))
                    if [ "$over" -gt "$GRACE_SECONDS" ]; then
                        why="Running $over s past its activeDeadlineSeconds ($deadline)"
                    fi
                fi
                ;;
        esac
        [ -n "$why" ] || continue
        printf '{"apiVersion":"v1","kind":"DeleteOptions","preconditions":{"uid":"%s"}}\n' "$uid" >"$WORK/delete.json"
        code=$(request DELETE "$KUBE_API/api/v1/namespaces/$ns/pods/$name" "$WORK/delete.json")
        case "$code" in
            200 | 202)
                log "deleted $ns/$name: $why"
                deleted=$((deleted + 1))
                ;;
            404 | 409) log "$ns/$name was gone or replaced before it could be deleted" ;;
            *)
                log "ERROR: could not delete $ns/$name (HTTP $code): $(head -c 300 "$WORK/answer.json")" >&2
                failed=1
                ;;
        esac
    done <"$WORK/pods"
done
log "$deleted pod(s) deleted"
exit "$failed"
