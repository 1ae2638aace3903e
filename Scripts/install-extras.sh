#!/bin/bash
# Installs what the built programs generate from their own command trees (swift-argument-
# parser): virtkit's bash, zsh and fish completions, and the virtkit(1) and virtkitd(1) man
# pages, under $PREFIX (default /usr/local). Run after `swift build`, as root; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${VIRTKIT_BIN:-.build/debug}
prefix=${PREFIX:-/usr/local}
[ -x "$BIN/virtkit" ] || { echo "install-extras: $BIN/virtkit is missing: run 'swift build' first" >&2; exit 1; }
install -d "$prefix/share/bash-completion/completions" "$prefix/share/zsh/site-functions" \
    "$prefix/share/fish/vendor_completions.d" "$prefix/share/man/man1"
"$BIN/virtkit" --generate-completion-script bash > "$prefix/share/bash-completion/completions/virtkit"
"$BIN/virtkit" --generate-completion-script zsh > "$prefix/share/zsh/site-functions/_virtkit"
"$BIN/virtkit" --generate-completion-script fish > "$prefix/share/fish/vendor_completions.d/virtkit.fish"
log=$(mktemp /tmp/virtkit-manual.XXXXXX)
swift package generate-manual --configuration debug >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; exit 1; }
rm -f "$log"
manuals=.build/plugins/GenerateManual/outputs
install -m 0644 "$manuals/virtkit-cli/virtkit.1" "$manuals/virtkitd/virtkitd.1" "$prefix/share/man/man1/"
echo "install-extras: completions and man pages in $prefix/share"
