#!/usr/bin/env bash
# Builds the binaries of a real Kubernetes control plane from Go modules into a versioned cache
# outside the repo: kube-apiserver, kube-controller-manager, kube-scheduler (k8s.io/kubernetes),
# etcd (go.etcd.io/etcd/server/v3) and kwok (sigs.k8s.io/kwok). Idempotent: a binary already in
# the cache is not rebuilt. Honours KUBEBUILDER_ASSETS (the envtest convention) when a user
# already has binaries there.
#
# Prints the directory holding the binaries as its last line of stdout; progress goes to stderr.
set -euo pipefail

KUBE_VERSION="${FLOTILLA_KUBE_VERSION:-1.34.4}"
ETCD_VERSION="3.6.16"
KWOK_VERSION="0.7.0"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_ROOT="${FLOTILLA_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flotilla/kube}"
OUT="$CACHE_ROOT/v$KUBE_VERSION"
BINARIES=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

say() { printf '[kube-binaries] %s\n' "$*" >&2; }

have_all() {
  local dir="$1" b
  for b in "${BINARIES[@]}"; do [ -x "$dir/$b" ] || return 1; done
}

if [ -n "${KUBEBUILDER_ASSETS:-}" ]; then
  if have_all "$KUBEBUILDER_ASSETS"; then
    say "using KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS"
    echo "$KUBEBUILDER_ASSETS"; exit 0
  fi
  say "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS lacks one of: ${BINARIES[*]} (envtest ships no kwok or"
  say "controller-manager); building the missing control plane into $OUT instead"
fi

if have_all "$OUT"; then echo "$OUT"; exit 0; fi

# One build at a time per cache: test runs started together on a fresh machine wait for the first
# one instead of compiling the same binaries twice into the same files.
mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.build.lock"
if command -v flock >/dev/null 2>&1 && ! flock -n 9; then
  say "another build of the control plane is running; waiting for it…"
  flock 9
fi
if have_all "$OUT"; then echo "$OUT"; exit 0; fi

if ! command -v go >/dev/null 2>&1; then
  say "ERROR: Go is not installed or not on PATH. The test control plane is built from Go modules;"
  say "install Go >= 1.24 (https://go.dev/dl) or point KUBEBUILDER_ASSETS at a directory holding"
  say "${BINARIES[*]}."
  exit 2
fi

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="${GOFLAGS:--buildvcs=false}"
mkdir -p "$OUT"
minor="$(echo "$KUBE_VERSION" | cut -d. -f2)"
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=v$KUBE_VERSION \
-X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor \
-X k8s.io/client-go/pkg/version.gitVersion=v$KUBE_VERSION"

start=$(date +%s)
say "building the Kubernetes v$KUBE_VERSION control plane into $OUT ($(go version | cut -d' ' -f3));"
say "a cold build takes 10-25 minutes on 2 cores, later runs reuse the cache"

build_one() { # name, module dir, package, ldflags
  local name="$1" dir="$2" pkg="$3" flags="$4" t0
  [ -x "$OUT/$name" ] && { say "$name: cached"; return 0; }
  t0=$(date +%s)
  say "$name: building…"
  (cd "$dir" && go build -trimpath -ldflags "$flags" -o "$OUT/$name.tmp" "$pkg")
  mv "$OUT/$name.tmp" "$OUT/$name"
  say "$name: built in $(( $(date +%s) - t0 )) s"
}

build_one etcd "$HERE/go/etcd" . "-s -w"
build_one kube-apiserver "$HERE/go/kubernetes" ./cmd/kube-apiserver "$ldflags"
build_one kube-controller-manager "$HERE/go/kubernetes" ./cmd/kube-controller-manager "$ldflags"
build_one kube-scheduler "$HERE/go/kubernetes" ./cmd/kube-scheduler "$ldflags"
if [ ! -x "$OUT/kwok" ]; then
  t0=$(date +%s); say "kwok: building v$KWOK_VERSION…"
  GOBIN="$OUT/.gobin" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION"
  mv "$OUT/.gobin/kwok" "$OUT/kwok"; rmdir "$OUT/.gobin"
  say "kwok: built in $(( $(date +%s) - t0 )) s"
fi
printf '{"kubernetes":"v%s","etcd":"v%s","kwok":"v%s","go":"%s","seconds":%d}\n' \
  "$KUBE_VERSION" "$ETCD_VERSION" "$KWOK_VERSION" "$(go version | cut -d' ' -f3)" \
  "$(( $(date +%s) - start ))" > "$OUT/build.json"
say "control plane ready in $OUT ($(( $(date +%s) - start )) s)"
echo "$OUT"
