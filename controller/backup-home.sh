#!/bin/sh
# The backup CronJob: a CSI VolumeSnapshot of Jenkins home's claim, then the retention: of the
# snapshots this stack took (label jenkins-k8s/snapshot: scheduled or pre-upgrade), each kind
# keeps its RETENTION newest, and none older than MAX_AGE_DAYS (when set). Snapshots are
# crash-consistent: the controller keeps running while the volume is cut.
#
# It talks to the API server with its own ServiceAccount, which may create, list and delete
# VolumeSnapshots in this namespace and nothing else; the token reaches curl on stdin (-K -).
#
# Only ready snapshots count toward the retention: a driver that fails keeps failing the Job
# (the new snapshot is waited for, up to WAIT_SECONDS) and never rotates the good ones out.
# KEEP names a snapshot that is never deleted (the one the home was restored from).
#
# Env: NAMESPACE, CLAIM, KEPT_BY (the stack's label value), CLASS [the default class],
# RETENTION [7], MAX_AGE_DAYS [0: by count only], PREFIX [jenkins-home], KEEP [none],
# WAIT_SECONDS [600; 0: do not wait], and k8s-event.sh's KUBE_API, KUBE_DIR, WORK.
set -eu
NAMESPACE=${NAMESPACE:?} CLAIM=${CLAIM:?} KEPT_BY=${KEPT_BY:?}
CLASS=${CLASS:-}
RETENTION=${RETENTION:-7}
MAX_AGE_DAYS=${MAX_AGE_DAYS:-0}
PREFIX=${PREFIX:-jenkins-home}
KEEP=${KEEP:-}
WAIT_SECONDS=${WAIT_SECONDS:-600}
EVENT_COMPONENT=backup-home
# quoted VALUE, and where the API server and the account's files are (k8s-event.sh, beside this script).
. "$(dirname "$0")/k8s-event.sh"
# request METHOD URL [BODY-FILE] (k8s-request.sh, beside this script).
. "$(dirname "$0")/k8s-request.sh"

api=$KUBE_API/apis/snapshot.storage.k8s.io/v1/namespaces/$NAMESPACE/volumesnapshots
log() { printf 'backup-home: %s\n' "$*"; }

name=$PREFIX-scheduled-$(date -u +%Y%m%d%H%M%S)
printf '%s\n' "{\"apiVersion\":\"snapshot.storage.k8s.io/v1\",\"kind\":\"VolumeSnapshot\",\"metadata\":{\"name\":\"$name\",\"namespace\":\"$NAMESPACE\",\"labels\":{\"jenkins-k8s/snapshot\":\"scheduled\",\"jenkins-k8s/kept-by\":\"$KEPT_BY\"}},\"spec\":{${CLASS:+\"volumeSnapshotClassName\":\"$CLASS\",}\"source\":{\"persistentVolumeClaimName\":\"$CLAIM\"}}}" >"$WORK/snapshot.json"
code=$(request POST "$api" "$WORK/snapshot.json")
if [ "$code" != 201 ]; then
    log "ERROR: could not create the VolumeSnapshot $NAMESPACE/$name of claim $CLAIM (HTTP $code): $(head -c 500 "$WORK/answer.json")" >&2
    exit 1
fi
log "created the VolumeSnapshot $NAMESPACE/$name of claim $CLAIM"

# Until the driver says it is ready (or fails): a backup that never completes is an error.
waited=0
while [ "$WAIT_SECONDS" -gt 0 ]; do
    code=$(request GET "$api/$name")
    if grep -q '"readyToUse":true' "$WORK/answer.json"; then
        log "$NAMESPACE/$name is ready to use"
        break
    fi
    if grep -q '"error":{' "$WORK/answer.json"; then
        log "ERROR: the VolumeSnapshot $NAMESPACE/$name failed: $(sed -n 's/.*"error":{\([^}]*\)}.*/\1/p' "$WORK/answer.json")" >&2
        exit 1
    fi
    if [ "$waited" -ge "$WAIT_SECONDS" ]; then
        log "ERROR: the VolumeSnapshot $NAMESPACE/$name is not ready after ${WAIT_SECONDS}s (HTTP $code); the retention did not run" >&2
        exit 1
    fi
    sleep 10
    waited=$((waited + 10))
done

# The stack's snapshots as "created kind name" lines. The API server writes compact JSON with each
# object's metadata keys in order (creationTimestamp before name), so each item's first
# creationTimestamp and name are its own.
code=$(request GET "$api?labelSelector=jenkins-k8s/snapshot,jenkins-k8s/kept-by=$KEPT_BY")
if [ "$code" != 200 ]; then
    log "ERROR: could not list the snapshots (HTTP $code): $(head -c 500 "$WORK/answer.json")" >&2
    exit 1
fi
sed 's/"kind":"VolumeSnapshot","metadata":{/\n/g' "$WORK/answer.json" | awk 'NR > 1 {
    ts = ""; name = ""; kind = ""
    if (match($0, /"creationTimestamp":"[^"]*"/)) ts = substr($0, RSTART + 21, RLENGTH - 22)
    if (match($0, /"name":"[^"]*"/)) name = substr($0, RSTART + 8, RLENGTH - 9)
    if (match($0, /"jenkins-k8s\/snapshot":"[^"]*"/)) kind = substr($0, RSTART + 24, RLENGTH - 25)
    ready = index($0, "\"readyToUse\":true") > 0 ? "ready" : "unready"
    if (ts != "" && name != "" && kind != "") print ts, kind, name, ready
}' | LC_ALL=C sort -r >"$WORK/snapshots.txt"

cutoff=
if [ "$MAX_AGE_DAYS" -gt 0 ]; then
    cutoff=$(date -u -d "@$(($(date +%s) - MAX_AGE_DAYS * 86400))" +%Y-%m-%dT%H:%M:%SZ)
fi
# Newest first: once RETENTION ready ones of its kind are kept, older ones go, as do those older
# than the cutoff; never KEEP.
# (The age never takes the newest ready one of a kind.)
awk -v keep="$RETENTION" -v cutoff="$cutoff" -v pinned="$KEEP" '$3 != pinned {
    if (ready[$2] >= keep || (cutoff != "" && $1 < cutoff && ready[$2] >= 1)) print $3
    else if ($4 == "ready") ready[$2]++
}' "$WORK/snapshots.txt" | while read -r old; do
    code=$(request DELETE "$api/$old")
    if [ "$code" = 200 ] || [ "$code" = 202 ] || [ "$code" = 404 ]; then
        log "deleted the VolumeSnapshot $NAMESPACE/$old (retention $RETENTION${cutoff:+, none before $cutoff})"
    else
        log "ERROR: could not delete the VolumeSnapshot $NAMESPACE/$old (HTTP $code)" >&2
        exit 1
    fi
done
log "$(wc -l <"$WORK/snapshots.txt" | tr -d ' ') snapshots of this stack before the retention ran"
