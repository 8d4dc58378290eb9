#!/bin/sh
# The agent reaper CronJob: deletes the agent pods that nothing else will, in each agent tier's
# namespace, so a stuck pod does not hold its quota, its node or its claim for ever:
#   - Pending for longer than STUCK_SECONDS: unschedulable, an image that cannot be pulled, an
#     agent that never connected (the plugin gives up on it after its slaveConnectTimeout, but
#     deletes it only while the controller is healthy);
#   - finished (Succeeded, Failed: the kubelet fails a pod past its activeDeadlineSeconds) for
#     longer than STUCK_SECONDS since its last container ended: podRetention keeps them for a
#     look, not for good;
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
# request METHOD URL [BODY-FILE] (k8s-request.sh, beside this script).
. "$(dirname "$0")/k8s-request.sh"
NOW=${NOW:-$(date -u +%s)}

log() { printf 'reap-agents: %s\n' "$*"; }

# epoch TIMESTAMP: seconds since 1970 of an RFC 3339 UTC time (GNU date, or busybox's).
epoch() { date -u -d "$1" +%s 2>/dev/null || date -u -D '%Y-%m-%dT%H:%M:%SZ' -d "$1" +%s; }

# field NAME [PART]: the first "NAME":"value" (or number) in PART of the pod on stdin: all of it,
# or what follows the first `"spec":{` or `"status":{` (labels and annotations come before both,
# and a JSON string cannot hold an unescaped `"spec":{`, so a pipeline's label cannot fake what is
# read there). Metadata's own fields (name, uid, creationTimestamp, deletionTimestamp) come
# before labels in the API server's JSON; managedFields spell every field "f:NAME".
field() {
    after "${2:-}" | grep -o "\"$1\":\"\{0,1\}[^\",}]*" | head -n 1 | sed "s/^\"$1\":\"\{0,1\}//"
}

# number NAME PART: the same, for a number only (a label value, a string, cannot pass for it).
number() { after "$2" | grep -o "\"$1\":[0-9][0-9]*" | head -n 1 | sed "s/^\"$1\"://"; }

# after PART: stdin from the first `"PART":{` on (all of it when PART is empty).
after() { awk -v name="$1" '{ i = name == "" ? 1 : index($0, "\"" name "\":{"); if (i) print substr($0, i) }'; }

# finished POD: when its last container ended (the latest finishedAt), or empty.
finished() { grep -o '"finishedAt":"[^"]*"' | sed 's/^"finishedAt":"//; s/"$//' | sort | tail -n 1; }

failed=0
deleted=0
for ns in $NAMESPACES; do
    # The phase is the API server's, asked by field selector: never read out of the pod's text.
    for phase in Pending Succeeded Failed Unknown Running; do
        code=$(request GET "$KUBE_API/api/v1/namespaces/$ns/pods?fieldSelector=status.phase%3D$phase")
        if [ "$code" != 200 ]; then
            log "ERROR: could not list the $phase pods of $ns (HTTP $code): $(head -c 300 "$WORK/answer.json")" >&2
            failed=1
            continue
        fi
        # One pod a line: an item starts with its metadata, and `},{"metadata":{` cannot occur
        # inside a JSON string.
        sed -e 's/^{"kind":"PodList","apiVersion":"v1","metadata":{[^}]*},"items":\[//' \
            -e 's/},{"metadata":{/}\n{"metadata":{/g' "$WORK/answer.json" |
            grep '^{"metadata":{' >"$WORK/pods" || true
        while IFS= read -r pod; do
            name=$(printf '%s' "$pod" | field name)
            uid=$(printf '%s' "$pod" | field uid)
            # Being deleted already (a node that does not answer keeps it Terminating): the quota
            # stops counting it once its grace period is over; deleting it again changes nothing.
            if [ -n "$(printf '%s' "$pod" | field deletionTimestamp)" ]; then
                continue
            fi
            created=$(epoch "$(printf '%s' "$pod" | field creationTimestamp)") || continue
            why=
            case "$phase" in
                Pending)
                    if [ $((NOW - created)) -gt "$STUCK_SECONDS" ]; then
                        reason=$(printf '%s' "$pod" | sed -n 's/.*"waiting":{"reason":"\([^"]*\)".*/\1/p; s/.*"reason":"\(Unschedulable\)".*/\1/p' | head -n 1)
                        why="Pending for $((NOW - created)) s${reason:+ ($reason)}"
                    fi
                    ;;
                Running)
                    deadline=$(printf '%s' "$pod" | number activeDeadlineSeconds spec)
                    started=$(printf '%s' "$pod" | field startTime status)
                    case "$deadline" in '' | *[!0-9]*) continue ;; esac
                    [ -n "$started" ] || continue
                    start=$(epoch "$started") || continue
                    over=$((NOW - start - deadline))
                    if [ "$over" -gt "$GRACE_SECONDS" ]; then
                        why="Running $over s past its activeDeadlineSeconds ($deadline)"
                    fi
                    ;;
                *)
                    # Since it ended (podRetention keeps it that long for a look), else since it was made.
                    ended=$(printf '%s' "$pod" | after status | finished)
                    since=$created
                    if [ -n "$ended" ]; then since=$(epoch "$ended") || since=$created; fi
                    if [ $((NOW - since)) -gt "$STUCK_SECONDS" ]; then
                        why="$phase for $((NOW - since)) s"
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
done
log "$deleted pod(s) deleted"
exit "$failed"
