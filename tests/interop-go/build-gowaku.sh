#!/usr/bin/env bash
# Builds go-waku's node (v0.10.3) from the Go module proxy into
# target/gowaku/waku (or $1), for the go-waku interop tests. The binary is
# cached: a second run with the binary present does nothing.
#
# go-waku's own go.mod replaces go-libp2p-pubsub with Waku's fork; a replace
# only applies in the main module, so our throwaway main module repeats it.
# RLN is left out (-tags gowaku_no_rln): no zerokit, cgo only for SQLite.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../../target/gowaku/waku}"
version="v0.10.3"
if [ -x "$out" ] && [ "$(cat "$out.version" 2>/dev/null)" = "$version" ]; then
    echo "go-waku $version already built: $out"
    exit 0
fi
mkdir -p "$(dirname "$out")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
cat > go.mod <<MOD
module gowakubuild

go 1.23

require github.com/waku-org/go-waku $version

replace github.com/libp2p/go-libp2p-pubsub v0.13.1 => github.com/waku-org/go-libp2p-pubsub v0.13.1-gowaku
MOD
cat > tools.go <<'GO'
//go:build tools

package gowakubuild

import _ "github.com/waku-org/go-waku/cmd/waku"
GO
export GOFLAGS=-mod=mod
export GOTOOLCHAIN=local
go mod tidy >/dev/null 2>&1 || true
go build -tags gowaku_no_rln -o "$out.tmp" github.com/waku-org/go-waku/cmd/waku
mv "$out.tmp" "$out"
echo "$version" > "$out.version"
echo "built go-waku $version: $out"
