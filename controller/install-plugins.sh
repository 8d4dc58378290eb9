#!/bin/sh
# Init container: install the Jenkins plugins listed in PLUGINS_FILE into
# $JENKINS_HOME/plugins, but only when the list (or the Jenkins core) changed
# since the last successful install, so ordinary pod restarts need neither the
# update center nor minutes of downloads.
#
# Env contract (defaults in brackets):
#   PLUGINS_FILE  [/var/jenkins_plugins/plugins.txt]  artifactId:version lines
#   JENKINS_HOME  [/var/jenkins_home]                 persistent volume
#   JENKINS_WAR   [/usr/share/jenkins/jenkins.war]
#   PLUGIN_CLI    [jenkins-plugin-cli]                one executable, no args
set -eu

PLUGINS_FILE=${PLUGINS_FILE:-/var/jenkins_plugins/plugins.txt}
JENKINS_HOME=${JENKINS_HOME:-/var/jenkins_home}
JENKINS_WAR=${JENKINS_WAR:-/usr/share/jenkins/jenkins.war}
PLUGIN_CLI=${PLUGIN_CLI:-jenkins-plugin-cli}

plugins_dir=$JENKINS_HOME/plugins
staging_dir=$JENKINS_HOME/plugins.staging
old_dir=$JENKINS_HOME/plugins.old
marker=$plugins_dir/.installed-plugins.sha256

# Bump when the install semantics change (flags below, normalisation), so
# every existing volume re-installs once under the new rules.
HASH_SCHEME='install-plugins/v1 --latest false'

log() { printf 'install-plugins: %s\n' "$*"; }
die() {
	printf 'install-plugins: ERROR: %s\n' "$*" >&2
	exit 1
}

# Same reading of the file as jenkins-plugin-cli's txt parser (drop
# " #..." tails and all whitespace, skip '#' lines and empty lines), plus CR
# removal and sorting, so only edits that change what gets installed change
# the hash.
normalised_plugin_list() {
	tr -d '\r' <"$PLUGINS_FILE" |
		sed -e 's/[[:space:]]#.*$//' -e 's/[[:space:]]//g' -e '/^#/d' -e '/^$/d' |
		LC_ALL=C sort -u
}

# --- validate inputs before touching the volume -----------------------------

if [ ! -f "$PLUGINS_FILE" ] || [ ! -r "$PLUGINS_FILE" ]; then
	die "PLUGINS_FILE $PLUGINS_FILE does not exist or is not readable"
fi
# The CLI picks its parser from the extension and rejects anything else;
# failing here gives a clearer message than its stack trace.
case $PLUGINS_FILE in
*.txt) ;;
*) die "PLUGINS_FILE $PLUGINS_FILE must end in .txt (jenkins-plugin-cli format)" ;;
esac
plugin_list=$(normalised_plugin_list)
[ -n "$plugin_list" ] ||
	die "PLUGINS_FILE $PLUGINS_FILE lists no plugins; refusing to install an empty plugin set"

if [ ! -f "$JENKINS_WAR" ] || [ ! -r "$JENKINS_WAR" ]; then
	die "JENKINS_WAR $JENKINS_WAR does not exist or is not readable"
fi
if [ ! -d "$JENKINS_HOME" ] || [ ! -w "$JENKINS_HOME" ]; then
	die "JENKINS_HOME $JENKINS_HOME is not a writable directory (is the volume mounted?)"
fi

# --- recover from an interrupted previous run --------------------------------

if [ -d "$old_dir" ]; then
	if [ -d "$plugins_dir" ]; then
		# Staging was already swapped in; the old set is garbage. If the marker
		# was not written yet, the hash check below re-installs anyway.
		log "removing leftover $old_dir from an interrupted swap"
		rm -rf "$old_dir"
	else
		# Interrupted between the two renames: put the previous working set
		# back so a failing install below still leaves Jenkins bootable.
		log "restoring $plugins_dir from leftover $old_dir (interrupted swap)"
		mv "$old_dir" "$plugins_dir"
	fi
fi
if [ -e "$staging_dir" ]; then
	log "removing leftover $staging_dir from an interrupted install"
	rm -rf "$staging_dir"
fi

# --- skip when nothing relevant changed --------------------------------------

# Hash the WAR's content rather than size+mtime: one sequential read of
# ~100 MB per pod start is well under a second, and it is exact even when an
# image rebuild keeps the size or the layer extraction resets mtimes.
war_sha=$(sha256sum <"$JENKINS_WAR" | cut -d ' ' -f 1)
wanted_hash=$(
	printf '%s\n' "scheme: $HASH_SCHEME" "war-sha256: $war_sha" "$plugin_list" |
		sha256sum | cut -d ' ' -f 1
)

installed_hash=
if [ -f "$marker" ]; then
	installed_hash=$(cat "$marker")
fi
if [ "$installed_hash" = "$wanted_hash" ]; then
	log "plugins are up to date (hash $wanted_hash), skipping download"
	exit 0
fi

if [ -z "$installed_hash" ]; then
	log "no completed install recorded in $marker; installing plugins"
else
	log "plugin list or Jenkins WAR changed (hash $installed_hash -> $wanted_hash); installing plugins"
fi

# --- install into staging, on the same volume so the swap is a rename -------

command -v "$PLUGIN_CLI" >/dev/null 2>&1 ||
	die "PLUGIN_CLI $PLUGIN_CLI not found on PATH; existing plugins left untouched"

mkdir "$staging_dir"
# --latest false: the CLI defaults to upgrading dependencies to their latest
# release, which makes the result depend on the day the pod starts; false
# resolves dependencies from the pinned plugins' own requirements instead.
if ! "$PLUGIN_CLI" \
	--war "$JENKINS_WAR" \
	--plugin-file "$PLUGINS_FILE" \
	--plugin-download-directory "$staging_dir" \
	--latest false \
	--verbose; then
	rm -rf "$staging_dir"
	die "jenkins-plugin-cli failed; existing $plugins_dir left untouched, will retry on next start"
fi

# A "successful" run that produced no plugin archives would swap in an empty
# set and boot a Jenkins without its plugins; keep the old set instead.
found_archive=
for f in "$staging_dir"/*.jpi "$staging_dir"/*.hpi; do
	if [ -e "$f" ]; then
		found_archive=yes
		break
	fi
done
if [ -z "$found_archive" ]; then
	rm -rf "$staging_dir"
	die "jenkins-plugin-cli exited 0 but downloaded no .jpi/.hpi files into $staging_dir; existing $plugins_dir left untouched"
fi

# --- swap ---------------------------------------------------------------------

# The whole directory is replaced (not merged) so plugins dropped from the list
# really disappear; Jenkins re-expands the archives it finds on startup.
if [ -d "$plugins_dir" ]; then
	mv "$plugins_dir" "$old_dir"
fi
mv "$staging_dir" "$plugins_dir"
# Marker last, via rename: any interruption before this line leaves no
# matching marker, so the next start installs again instead of trusting a
# half-finished swap.
printf '%s\n' "$wanted_hash" >"$marker.tmp"
mv "$marker.tmp" "$marker"
rm -rf "$old_dir"

count=$(find "$plugins_dir" -maxdepth 1 -type f \( -name '*.jpi' -o -name '*.hpi' \) | wc -l)
log "installed $((count + 0)) plugin archives into $plugins_dir (hash $wanted_hash)"
