#!/bin/sh
# Init container: installs exactly the plugin lock (LOCK_FILE: every plugin Jenkins loads, each
# with its version, SHA-256 and download path, written by `npm run plugins:lock`) into
# $JENKINS_HOME/plugins. Nothing is resolved here: no update center is asked what to install.
#
# - An unchanged lock downloads nothing (the installed archives are checked against it).
# - A changed lock downloads only the archives that changed; the rest are copied from the
#   installed set. Every archive's SHA-256 is checked before it is used.
# - The new set is built beside the old one and swapped in by renames, so Jenkins never sees a
#   half-installed set, and plugins dropped from the lock disappear.
# - Archives are downloaded PARALLEL at a time, by workers that take the next plugin from one
#   queue. Each writes NAME.jpi.part and renames it only once its SHA-256 matches, so an archive
#   cut short (a failure, a killed pod) is never taken for a whole one.
# - A download that fails is retried with backoff, from each source in turn (PLUGIN_SOURCES: a
#   mirror, or the update center and then its archive); the other downloads go on. When the set
#   still cannot be completed, a complete previous set on the volume boots Jenkins as it was;
#   without one the pod fails, naming every plugin that failed and its URLs. Either way the log
#   and a Kubernetes Event on the pod say so.
#
# Env contract (defaults in brackets):
#   LOCK_FILE       [/var/jenkins_scripts/plugins.lock]  lines: NAME VERSION SHA256 PATH, '#' comments
#   JENKINS_HOME    [/var/jenkins_home]                  the persistent volume
#   PLUGIN_SOURCES  [https://updates.jenkins.io/download https://archives.jenkins.io]
#                   download bases, tried in order; an archive is BASE/PATH
#   ATTEMPTS [4], BACKOFF [5]  tries per archive, and the first wait in seconds (then doubled)
#   PARALLEL [8]    downloads at once (npm run bench measures them against the bound)
#   and k8s-event.sh's (POD_NAME, POD_NAMESPACE, POD_UID, KUBE_API, KUBE_DIR, WORK)
set -eu

LOCK_FILE=${LOCK_FILE:-/var/jenkins_scripts/plugins.lock}
JENKINS_HOME=${JENKINS_HOME:-/var/jenkins_home}
PLUGIN_SOURCES=${PLUGIN_SOURCES:-https://updates.jenkins.io/download https://archives.jenkins.io}
ATTEMPTS=${ATTEMPTS:-4}
BACKOFF=${BACKOFF:-5}
PARALLEL=${PARALLEL:-8}
EVENT_COMPONENT=install-plugins
# event TYPE REASON MESSAGE (k8s-event.sh, mounted beside this script).
. "$(dirname "$0")/k8s-event.sh"

plugins_dir=$JENKINS_HOME/plugins
staging_dir=$JENKINS_HOME/plugins.staging
old_dir=$JENKINS_HOME/plugins.old
marker=$plugins_dir/.installed-plugins.sha256
# NAME SIZE MTIME of each archive as installed: an unchanged one is not hashed again at each start.
manifest=$plugins_dir/.installed-plugins.stat

# Bump when the install semantics change, so every existing volume re-installs once.
HASH_SCHEME='install-plugins/v2 lock'

log() { printf 'install-plugins: %s\n' "$*"; }
die() {
    printf 'install-plugins: ERROR: %s\n' "$*" >&2
    event Warning PluginInstallFailed "$*"
    exit 1
}
sha256_of() { sha256sum "$1" | cut -d ' ' -f 1; }
stat_of() { stat -c '%s %Y' "$1"; }

# --- validate inputs before touching the volume -----------------------------

if [ ! -f "$LOCK_FILE" ] || [ ! -r "$LOCK_FILE" ]; then
    die "LOCK_FILE $LOCK_FILE does not exist or is not readable"
fi
lock=$(tr -d '\r' <"$LOCK_FILE" | sed -e '/^[[:space:]]*#/d' -e '/^[[:space:]]*$/d')
[ -n "$lock" ] || die "LOCK_FILE $LOCK_FILE locks no plugins; refusing to install an empty plugin set"
bad=$(printf '%s\n' "$lock" | awk '
    NF != 4 || $1 !~ /^[A-Za-z0-9][A-Za-z0-9_.-]*$/ || length($3) != 64 || $3 ~ /[^0-9a-f]/ ||
    $4 ~ /^\// || $4 ~ /(^|\/)\.\.(\/|$)/ { print NR ": " $0; exit }')
[ -z "$bad" ] || die "LOCK_FILE $LOCK_FILE line $bad is not NAME VERSION SHA256 PATH"
case $PARALLEL in '' | *[!0-9]* | 0) die "PARALLEL=$PARALLEL is not a number of downloads at once (1 or more)" ;; esac
if [ ! -d "$JENKINS_HOME" ] || [ ! -w "$JENKINS_HOME" ]; then
    die "JENKINS_HOME $JENKINS_HOME is not a writable directory (is the volume mounted?)"
fi

# --- recover from an interrupted previous run --------------------------------

if [ -d "$old_dir" ]; then
    if [ -d "$plugins_dir" ]; then
        # Staging was already swapped in; the old set is garbage. If the marker was not
        # written yet, the check below re-installs anyway.
        log "removing leftover $old_dir from an interrupted swap"
        rm -rf "$old_dir"
    else
        # Interrupted between the two renames: put the previous set back so a failing install
        # below still leaves Jenkins bootable.
        log "restoring $plugins_dir from leftover $old_dir (interrupted swap)"
        mv "$old_dir" "$plugins_dir"
    fi
fi
if [ -e "$staging_dir" ]; then
    log "removing leftover $staging_dir from an interrupted install"
    rm -rf "$staging_dir"
fi

# --- skip when the installed set is the lock ---------------------------------

wanted_hash=$(printf '%s\n' "scheme: $HASH_SCHEME" "$lock" | LC_ALL=C sort | sha256sum | cut -d ' ' -f 1)
count=$(printf '%s\n' "$lock" | wc -l | tr -d ' ')
installed_hash=
if [ -f "$marker" ]; then
    installed_hash=$(cat "$marker")
fi
if [ "$installed_hash" = "$wanted_hash" ]; then
    # The marker says this lock was installed; the archives say whether they still are, and
    # whether any other (one installed from the UI, or copied in) has joined them.
    # An archive with the size and mtime it was installed with is taken as it was; any other is hashed.
    changed=$(printf '%s\n' "$lock" | while read -r name version sha path; do
        f=$plugins_dir/$name.jpi
        if [ ! -f "$f" ]; then
            echo "$name"
        elif ! grep -qxF "$name $(stat_of "$f")" "$manifest" 2>/dev/null && [ "$(sha256_of "$f")" != "$sha" ]; then
            echo "$name"
        fi
    done)
    extra=$(
        cd "$plugins_dir" && for f in *.jpi *.hpi; do
            [ -e "$f" ] || continue
            printf '%s\n' "$lock" | awk -v n="${f%.*}" '$1 == n { found = 1 } END { exit !found }' || echo "$f"
        done
    )
    changed="$changed${extra:+ $extra (not in the lock)}"
    if [ -z "$changed" ]; then
        log "the $count locked plugins are installed (lock $wanted_hash); nothing to download"
        exit 0
    fi
    log "installed archives differ from the lock ($(echo $changed)); installing again"
elif [ -z "$installed_hash" ]; then
    log "no completed install recorded in $marker; installing $count plugins"
else
    log "the plugin lock changed ($installed_hash -> $wanted_hash); installing $count plugins"
fi

# --- build the new set in staging, on the same volume so the swap is a rename --

# fetch NAME VERSION SHA PATH: puts NAME.jpi in staging, or sets $failure to why not and returns 1.
fetch() {
    target=$staging_dir/$1.jpi
    # An archive the installed set already has (same SHA-256) is linked (same volume), else
    # copied, not downloaded; and checked again, since a full volume can cut a copy short.
    if [ -f "$plugins_dir/$1.jpi" ] && [ "$(sha256_of "$plugins_dir/$1.jpi")" = "$3" ]; then
        if { ln "$plugins_dir/$1.jpi" "$target" 2>/dev/null || cp "$plugins_dir/$1.jpi" "$target"; } &&
            [ "$(sha256_of "$target")" = "$3" ]; then
            return 0
        fi
        rm -f "$target"
    fi
    why=
    attempt=1
    wait=$BACKOFF
    while :; do
        for base in $PLUGIN_SOURCES; do
            url=${base%/}/$4
            if curl -fsSL --connect-timeout 10 --max-time 600 -o "$target.part" "$url" 2>"$target.err"; then
                got=$(sha256_of "$target.part")
                if [ "$got" = "$3" ] && mv "$target.part" "$target"; then
                    rm -f "$target.err"
                    log "downloaded $1:$2 from $url"
                    return 0
                fi
                why="$why; $url: checksum mismatch (expected $3, got $got)"
            else
                why="$why; $url: $(tr '\n' ' ' <"$target.err" | sed 's/ *$//')"
            fi
            rm -f "$target.part"
        done
        if [ "$attempt" -ge "$ATTEMPTS" ]; then
            break
        fi
        log "$1:$2 not downloaded (try $attempt of $ATTEMPTS), retrying in ${wait}s"
        sleep "$wait"
        attempt=$((attempt + 1))
        wait=$((wait * 2))
    done
    rm -f "$target.err"
    failure="$1:$2 could not be installed after $ATTEMPTS tries${why}"
    return 1
}

# The queue: the lock's lines, numbered. A worker takes line N by creating the file N with the
# shell's noclobber (an exclusive create: one worker gets it, the others go on to N+1; no process
# is started for it; `true`, since a failed redirection ends the shell on a special built-in such
# as `:`), and marks it done or failed. Outside the volume: it is this run's alone.
queue=$(mktemp -d "${WORK:-${TMPDIR:-/tmp}}/install-plugins.XXXXXX")
printf '%s\n' "$lock" >"$queue/lines"

worker() {
    n=0
    while [ "$n" -lt "$count" ]; do
        n=$((n + 1))
        set -C
        if ! { true >"$queue/$n"; } 2>/dev/null; then
            set +C
            continue
        fi
        set +C
        # shellcheck disable=SC2046 # NAME VERSION SHA PATH, checked above to hold no blanks
        set -- $(sed -n "${n}p" "$queue/lines")
        if fetch "$1" "$2" "$3" "$4"; then
            : >"$queue/$n.done"
        else
            printf '%s\n' "$failure" >"$queue/$n.failed"
        fi
    done
}

mkdir "$staging_dir"
workers=0
while [ "$workers" -lt "$PARALLEL" ] && [ "$workers" -lt "$count" ]; do
    worker &
    workers=$((workers + 1))
done
wait
# Every plugin that failed, in the lock's order; one whose worker stopped without a word (killed,
# out of memory) is a failure too, never a hole in the new set.
failure=$(
    n=0
    printf '%s\n' "$lock" | while read -r name version sha path; do
        n=$((n + 1))
        if [ -f "$queue/$n.failed" ]; then
            cat "$queue/$n.failed"
        elif [ ! -f "$queue/$n.done" ] || [ ! -f "$staging_dir/$name.jpi" ]; then
            echo "$name:$version was not installed: its download stopped unfinished"
        fi
    done | sed -e ':a' -e '$!N' -e '$!ba' -e 's/\n/ | /g'
)
rm -rf "$queue"

if [ -n "$failure" ]; then
    rm -rf "$staging_dir"
    if [ -n "$installed_hash" ] && [ -d "$plugins_dir" ]; then
        # A complete earlier install (its marker is written last) is a Jenkins that boots as it
        # did: better than no Jenkins. The next start of the pod tries the lock again.
        message="booting with the previously installed plugins (lock $installed_hash), not the new lock: $failure"
        printf 'install-plugins: WARNING: %s\n' "$message" >&2
        event Warning PluginInstallFailed "$message"
        exit 0
    fi
    die "no plugins installed and none to fall back on: $failure"
fi

# --- swap -------------------------------------------------------------------------

while read -r name version sha path; do
    printf '%s %s\n' "$name" "$(stat_of "$staging_dir/$name.jpi")"
done >"$staging_dir/.installed-plugins.stat" <<EOF
$lock
EOF

if [ -d "$plugins_dir" ]; then
    mv "$plugins_dir" "$old_dir"
fi
mv "$staging_dir" "$plugins_dir"
# Marker last, via rename: any interruption before this line leaves no matching marker, so the
# next start installs again instead of trusting a half-finished swap.
printf '%s\n' "$wanted_hash" >"$marker.tmp"
mv "$marker.tmp" "$marker"
rm -rf "$old_dir"

log "installed the $count locked plugins into $plugins_dir (lock $wanted_hash)"
event Normal PluginsInstalled "installed the $count locked plugins (lock $wanted_hash)"
