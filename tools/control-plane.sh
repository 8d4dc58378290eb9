#!/usr/bin/env bash
# A throwaway Kubernetes control plane on 127.0.0.1 for the cluster tier, built from Go modules:
# no container runtime, no images. Real etcd, kube-apiserver (RBAC, Pod Security admission,
# ServiceAccount tokens), kube-controller-manager and kube-scheduler, and kwok's fake nodes, on
# which pods go Running and Ready without running anything.
#
#   tools/control-plane.sh build       builds the binaries (once; 15-25 min cold on 2 cores, then
#                                      seconds: each binary carries a stamp of its version)
#   tools/control-plane.sh up          builds if needed and starts everything (idempotent)
#   tools/control-plane.sh down        stops what up started; PURGE=1 also forgets the cluster's data
#   tools/control-plane.sh kubeconfig  prints the cluster-admin kubeconfig's path
#
# npm run cluster:build / cluster:up / cluster:down run the same. Everything lives under
# JENKINS_K8S_CLUSTER_HOME (default ${XDG_CACHE_HOME:-~/.cache}/jenkins-k8s/control-plane):
# bin/, src/ (the Go modules built), pki/, run/ (PID files), logs/, etcd/. Ports: CP_API_PORT
# (26443), CP_ETCD_PORT (22379), CP_ETCD_PEER_PORT (22380), CP_KCM_PORT (22257), CP_SCHED_PORT
# (22259); CP_NODES fake nodes (2, each 32 CPUs and 256Gi). What it cannot show: anything a
# running container would (Jenkins itself, volumes mounted by a kubelet, NetworkPolicy enforced by
# a CNI, storage provisioned by a CSI driver). kind is the alternative with containers.
set -euo pipefail

K8S_VERSION=v1.35.4
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.8.0

HOME_DIR="${JENKINS_K8S_CLUSTER_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/jenkins-k8s/control-plane}"
BIN="$HOME_DIR/bin"
PKI="$HOME_DIR/pki"
RUN="$HOME_DIR/run"
LOGS="$HOME_DIR/logs"
API_PORT="${CP_API_PORT:-26443}"
ETCD_PORT="${CP_ETCD_PORT:-22379}"
ETCD_PEER_PORT="${CP_ETCD_PEER_PORT:-22380}"
KCM_PORT="${CP_KCM_PORT:-22257}"
SCHED_PORT="${CP_SCHED_PORT:-22259}"
NODES="${CP_NODES:-2}"
API="https://127.0.0.1:$API_PORT"
KUBECONFIG_FILE="$HOME_DIR/kubeconfig"

say() { printf '[control-plane] %s\n' "$*"; }
fail() { printf '[control-plane] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- build

# built NAME VERSION: whether bin/NAME is there and was built from VERSION.
built() { [[ -x "$BIN/$1" && "$(cat "$BIN/$1.built-from" 2>/dev/null)" == "$2" ]]; }

# make_binary NAME VERSION FUNCTION: runs FUNCTION to build bin/NAME unless it is built already.
make_binary() {
    local name=$1 version=$2 how=$3
    if built "$name" "$version"; then
        say "$name $version: built already"
        return
    fi
    say "$name $version: building"
    local started=$SECONDS
    "$how"
    echo "$version" >"$BIN/$name.built-from"
    say "$name $version: built in $((SECONDS - started)) s"
}

# A Go module under src/ with one go.mod (its text on stdin); go build reads what it needs through
# the module proxy (GOPROXY, as go is set up).
go_module() {
    mkdir -p "$HOME_DIR/src/$1"
    cat >"$HOME_DIR/src/$1/go.mod"
}

# The go directive of those modules: the toolchain's own version.
go_version() { go env GOVERSION | sed 's/^go//'; }

build_etcd() {
    go_module etcd <<EOF
module jenkins-k8s.local/etcd

go $(go_version)

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
EOF
    # etcd's own main is in a module of its own that pins replace directives; its server module's
    # entry point is the same program.
    cat >"$HOME_DIR/src/etcd/main.go" <<'EOF'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
    (cd "$HOME_DIR/src/etcd" && go mod tidy && go build -trimpath -o "$BIN/etcd" .)
}

build_kwok() {
    GOBIN="$BIN" go install -trimpath "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
}

# k8s.io/kubernetes is not meant to be required as a module: its go.mod replaces each staging
# module (k8s.io/api, k8s.io/client-go, ...) with a folder of its own repository. A module that
# requires it replaces each with the published module of the same release (v0.MINOR.PATCH).
k8s_module() {
    local gomod staging
    gomod="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
    [[ -f "$gomod" ]] || fail "could not download k8s.io/kubernetes@$K8S_VERSION's go.mod"
    staging="$(sed -n 's/^[[:space:]]*\(k8s\.io\/[a-z0-9-]*\) => \.\/staging\/.*/\1/p' "$gomod" | sort -u)"
    {
        printf 'module jenkins-k8s.local/kubernetes\n\ngo %s\n\n' "$(go_version)"
        grep '^godebug ' "$gomod" || true
        printf '\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$K8S_VERSION"
        for module in $staging; do printf '\t%s => %s v0.%s\n' "$module" "$module" "${K8S_VERSION#v1.}"; done
        printf ')\n'
    } | go_module kubernetes
    printf '// Package kubernetes pins k8s.io/kubernetes; the binaries are its cmd/ packages.\npackage kubernetes\n' \
        >"$HOME_DIR/src/kubernetes/pin.go"
}

build_k8s_command() {
    local minor version_flags=""
    minor="$(echo "$K8S_VERSION" | cut -d. -f2)"
    # What `kubectl version` and the API server's /version say (the release scripts set the same).
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        version_flags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
    done
    (cd "$HOME_DIR/src/kubernetes" && GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w$version_flags" \
        -o "$BIN/$1" "k8s.io/kubernetes/cmd/$1")
}

build() {
    command -v go >/dev/null || fail "go is not on PATH (Go 1.24 or later builds the control plane)"
    mkdir -p "$BIN" "$LOGS"
    export CGO_ENABLED=0
    make_binary etcd "$ETCD_VERSION" build_etcd
    make_binary kwok "$KWOK_VERSION" build_kwok
    local command
    for command in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
        if ! built "$command" "$K8S_VERSION"; then
            [[ -f "$HOME_DIR/src/kubernetes/go.mod" ]] || k8s_module
        fi
        # shellcheck disable=SC2317 # called through make_binary
        build_this() { build_k8s_command "$command"; }
        make_binary "$command" "$K8S_VERSION" build_this
    done
}

# ---------------------------------------------------------------- up

# Certificates and tokens, made once: a CA for the API server's serving certificate and for the
# front proxy (which the controller-manager and scheduler read to authenticate requests), the
# ServiceAccount signing key, and a static token for each client.
credentials() {
    mkdir -p "$PKI"
    chmod 700 "$PKI"
    [[ -f "$PKI/tokens.csv" ]] && return
    command -v openssl >/dev/null || fail "openssl is not on PATH"
    local o="openssl"
    $o req -x509 -newkey rsa:2048 -nodes -keyout "$PKI/ca.key" -out "$PKI/ca.crt" -days 3650 \
        -subj "/CN=jenkins-k8s control plane CA" 2>/dev/null
    $o req -newkey rsa:2048 -nodes -keyout "$PKI/apiserver.key" -out "$PKI/apiserver.csr" \
        -subj "/CN=kube-apiserver" 2>/dev/null
    printf '%s\n' "basicConstraints = CA:FALSE" "extendedKeyUsage = serverAuth" \
        "subjectAltName = IP:127.0.0.1, IP:10.96.0.1, DNS:localhost, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local" \
        >"$PKI/apiserver.ext"
    $o x509 -req -in "$PKI/apiserver.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
        -days 3650 -extfile "$PKI/apiserver.ext" -out "$PKI/apiserver.crt" 2>/dev/null
    $o req -x509 -newkey rsa:2048 -nodes -keyout "$PKI/proxy-ca.key" -out "$PKI/proxy-ca.crt" -days 3650 \
        -subj "/CN=jenkins-k8s front proxy CA" 2>/dev/null
    $o req -newkey rsa:2048 -nodes -keyout "$PKI/proxy-client.key" -out "$PKI/proxy-client.csr" \
        -subj "/CN=front-proxy-client" 2>/dev/null
    printf 'extendedKeyUsage = clientAuth\n' >"$PKI/client.ext"
    $o x509 -req -in "$PKI/proxy-client.csr" -CA "$PKI/proxy-ca.crt" -CAkey "$PKI/proxy-ca.key" -CAcreateserial \
        -days 3650 -extfile "$PKI/client.ext" -out "$PKI/proxy-client.crt" 2>/dev/null
    $o genrsa -out "$PKI/service-accounts.key" 2048 2>/dev/null
    $o rsa -in "$PKI/service-accounts.key" -pubout -out "$PKI/service-accounts.pub" 2>/dev/null
    # token,user,uid[,"groups"]: the administrator and kwok (which manages nodes) are masters; the
    # controller-manager and scheduler get the rights their bootstrap roles give their users.
    {
        printf '%s,admin,uid-admin,"system:masters"\n' "$($o rand -hex 24)"
        printf '%s,kwok,uid-kwok,"system:masters"\n' "$($o rand -hex 24)"
        printf '%s,system:kube-controller-manager,uid-controller-manager\n' "$($o rand -hex 24)"
        printf '%s,system:kube-scheduler,uid-scheduler\n' "$($o rand -hex 24)"
    } >"$PKI/tokens.csv.new"
    chmod 600 "$PKI/tokens.csv.new"
    mv "$PKI/tokens.csv.new" "$PKI/tokens.csv"
}

token() { awk -F, -v user="$1" '$2 == user { print $1 }' "$PKI/tokens.csv"; }

# kubeconfig FILE USER: a kubeconfig that authenticates with USER's token.
kubeconfig() {
    local file=$1 user=$2
    umask 077
    cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: jenkins-k8s-control-plane
    cluster: { server: "$API", certificate-authority: "$PKI/ca.crt" }
users:
  - name: "$user"
    user: { token: "$(token "$user")" }
contexts:
  - name: jenkins-k8s-control-plane
    context: { cluster: jenkins-k8s-control-plane, user: "$user" }
current-context: jenkins-k8s-control-plane
EOF
}

# running NAME: whether the process started as NAME still runs our binary.
running() {
    local pid
    pid="$(cat "$RUN/$1.pid" 2>/dev/null)" || return 1
    [[ -r "/proc/$pid/cmdline" ]] && tr '\0' '\n' <"/proc/$pid/cmdline" | head -n 1 | grep -qxF "$BIN/$1"
}

# launch NAME ARGS...: starts bin/NAME in its own session, logging to logs/NAME.log, unless it runs.
launch() {
    local name=$1
    shift
    if running "$name"; then
        say "$name runs already (pid $(cat "$RUN/$name.pid"))"
        return
    fi
    setsid "$BIN/$name" "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
    echo $! >"$RUN/$name.pid"
    say "$name started (pid $!, log $LOGS/$name.log)"
}

# await WHAT SECONDS COMMAND...: runs COMMAND each second until it succeeds.
await() {
    local what=$1 seconds=$2
    shift 2
    local waited
    for ((waited = 0; waited < seconds; waited++)); do
        "$@" >/dev/null 2>&1 && return
        sleep 1
    done
    fail "$what did not come up within $seconds s (logs in $LOGS)"
}

kubectl_() { "$BIN/kubectl" --kubeconfig "$KUBECONFIG_FILE" "$@"; }
# The node lifecycle controller has taken the not-ready taint off every node.
untainted() { [[ -z "$(kubectl_ get nodes -o jsonpath='{.items[*].spec.taints}')" ]]; }

# kwok's stages from its own module: nodes initialise at once and keep a lease, pods go Running and
# Ready, finish, and go when deleted.
kwok_stages() {
    [[ -s "$HOME_DIR/kwok-stages.yaml" ]] && return
    local dir stage
    dir="$(cd "$HOME_DIR/src/etcd" && go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" |
        sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
    [[ -d "$dir" ]] || fail "could not download sigs.k8s.io/kwok@$KWOK_VERSION for its stages"
    for stage in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
        pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
        printf -- '---\n'
        cat "$dir/kustomize/stage/$stage.yaml"
    done >"$HOME_DIR/kwok-stages.yaml"
}

up() {
    local b
    for b in etcd kwok kube-apiserver kube-controller-manager kube-scheduler kubectl; do
        [[ -x "$BIN/$b" ]] || { build; break; }
    done
    mkdir -p "$RUN" "$LOGS" "$HOME_DIR/etcd"
    chmod 700 "$HOME_DIR/etcd"
    credentials
    kubeconfig "$KUBECONFIG_FILE" admin
    kubeconfig "$HOME_DIR/controller-manager.kubeconfig" system:kube-controller-manager
    kubeconfig "$HOME_DIR/scheduler.kubeconfig" system:kube-scheduler
    kubeconfig "$HOME_DIR/kwok.kubeconfig" kwok
    kwok_stages

    launch etcd --name jenkins-k8s --data-dir "$HOME_DIR/etcd" \
        --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
        --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
        --initial-cluster "jenkins-k8s=http://127.0.0.1:$ETCD_PEER_PORT" \
        --listen-metrics-urls "" --unsafe-no-fsync --log-level warn
    await etcd 60 curl -fsS "http://127.0.0.1:$ETCD_PORT/health"

    # The stock admission plugins (Pod Security among them) with NodeRestriction, Node and RBAC
    # authorization, static tokens for the clients above, ServiceAccount tokens signed here.
    launch kube-apiserver --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
        --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" \
        --endpoint-reconciler-type none \
        --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
        --client-ca-file "$PKI/ca.crt" --token-auth-file "$PKI/tokens.csv" \
        --requestheader-client-ca-file "$PKI/proxy-ca.crt" --requestheader-allowed-names front-proxy-client \
        --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
        --requestheader-extra-headers-prefix X-Remote-Extra- \
        --proxy-client-cert-file "$PKI/proxy-client.crt" --proxy-client-key-file "$PKI/proxy-client.key" \
        --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
        --service-account-issuer https://kubernetes.default.svc.cluster.local \
        --service-account-key-file "$PKI/service-accounts.pub" \
        --service-account-signing-key-file "$PKI/service-accounts.key" \
        --service-cluster-ip-range 10.96.0.0/16 --allow-privileged --profiling=false
    await "kube-apiserver" 180 curl -fsS --cacert "$PKI/ca.crt" -H "Authorization: Bearer $(token admin)" "$API/readyz"

    launch kube-controller-manager --kubeconfig "$HOME_DIR/controller-manager.kubeconfig" \
        --authentication-kubeconfig "$HOME_DIR/controller-manager.kubeconfig" \
        --authorization-kubeconfig "$HOME_DIR/controller-manager.kubeconfig" \
        --bind-address 127.0.0.1 --secure-port "$KCM_PORT" --leader-elect=false \
        --use-service-account-credentials --service-account-private-key-file "$PKI/service-accounts.key" \
        --root-ca-file "$PKI/ca.crt" --cluster-signing-cert-file "$PKI/ca.crt" \
        --cluster-signing-key-file "$PKI/ca.key" --profiling=false
    launch kube-scheduler --kubeconfig "$HOME_DIR/scheduler.kubeconfig" \
        --authentication-kubeconfig "$HOME_DIR/scheduler.kubeconfig" \
        --authorization-kubeconfig "$HOME_DIR/scheduler.kubeconfig" \
        --bind-address 127.0.0.1 --secure-port "$SCHED_PORT" --leader-elect=false --profiling=false
    # Fake nodes on loopback, with leases (without, the node lifecycle controller marks them
    # NotReady after 50 s); pod addresses are data only: nothing connects to them.
    launch kwok --kubeconfig "$HOME_DIR/kwok.kubeconfig" --config "$HOME_DIR/kwok-stages.yaml" \
        --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
        --node-ip 127.0.0.1 --cidr 10.244.0.0/16 --node-lease-duration-seconds 40
    await kube-controller-manager 120 curl -fsSk "https://127.0.0.1:$KCM_PORT/healthz"
    await kube-scheduler 120 curl -fsSk "https://127.0.0.1:$SCHED_PORT/healthz"

    local n nodes=""
    for ((n = 0; n < NODES; n++)); do
        nodes+="
  - apiVersion: v1
    kind: Node
    metadata:
      name: fake-node-$n
      annotations: { kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: \"0\" }
      labels: { kubernetes.io/hostname: fake-node-$n, kubernetes.io/os: linux, kubernetes.io/arch: amd64, type: kwok }
    status:
      capacity: { cpu: \"32\", memory: 256Gi, pods: \"110\", ephemeral-storage: 1Ti }
      allocatable: { cpu: \"32\", memory: 256Gi, pods: \"110\", ephemeral-storage: 1Ti }"
    done
    printf 'apiVersion: v1\nkind: List\nitems:%s\n' "$nodes" | kubectl_ apply -f - >/dev/null
    await "Ready nodes" 120 kubectl_ wait --for condition=Ready node --all --timeout 1s
    await "untainted nodes" 120 untainted
    await "the default ServiceAccount" 120 kubectl_ -n default get serviceaccount default
    await "kube-root-ca.crt" 60 kubectl_ -n default get configmap kube-root-ca.crt
    say "up: KUBECONFIG=$KUBECONFIG_FILE"
}

# ---------------------------------------------------------------- down

down() {
    local name pid waited
    for name in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
        if running "$name"; then
            pid="$(cat "$RUN/$name.pid")"
            kill "$pid" 2>/dev/null || true
            for ((waited = 0; waited < 30; waited++)); do
                [[ -e "/proc/$pid" ]] || break
                sleep 0.5
            done
            if [[ -e "/proc/$pid" ]]; then kill -9 "$pid" 2>/dev/null || true; fi
            say "$name stopped"
        fi
        rm -f "$RUN/$name.pid"
    done
    if [[ "${PURGE:-0}" == 1 ]]; then
        rm -rf "$HOME_DIR/etcd"
        say "the cluster's data is gone"
    fi
}

case "${1:-}" in
build) build ;;
up) up ;;
down) down ;;
kubeconfig) echo "$KUBECONFIG_FILE" ;;
*) fail "usage: $0 build|up|down|kubeconfig" ;;
esac
