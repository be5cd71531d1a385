#!/usr/bin/env bash
# Installs collect and analyze with their shell completions and man pages,
# both made by the binaries themselves from their clap definitions
# (`collect completions SHELL`, `collect man --out DIR`, same for analyze):
#
#     PREFIX/bin/collect, PREFIX/bin/analyze
#     PREFIX/share/man/man1/collect.1, collect-run.1, ..., analyze.1, ...
#     PREFIX/share/bash-completion/completions/{collect,analyze}
#     PREFIX/share/zsh/site-functions/_{collect,analyze}
#     PREFIX/share/fish/vendor_completions.d/{collect,analyze}.fish
#
#     scripts/install.sh                  build (release) and install
#     scripts/install.sh --prefix DIR     install under DIR (default: /usr/local
#                                         as root, else ~/.local)
#     scripts/install.sh --bin-dir DIR    install the collect and analyze found
#                                         in DIR instead of building them
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" = 0 ]; then prefix=/usr/local; else prefix="$HOME/.local"; fi
bin_dir=
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix=${2:?--prefix needs a folder}; shift 2 ;;
        --bin-dir) bin_dir=${2:?--bin-dir needs a folder}; shift 2 ;;
        -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

if [ -z "$bin_dir" ]; then
    (cd "$repo" && cargo build --release --locked -p collect -p analyze)
    bin_dir="${CARGO_TARGET_DIR:-$repo/target}/release"
fi

share="$prefix/share"
install -d "$prefix/bin" "$share/man/man1" "$share/bash-completion/completions" \
    "$share/zsh/site-functions" "$share/fish/vendor_completions.d"
for tool in collect analyze; do
    install -m 0755 "$bin_dir/$tool" "$prefix/bin/$tool"
    exe="$prefix/bin/$tool"
    "$exe" completions bash > "$share/bash-completion/completions/$tool"
    "$exe" completions zsh > "$share/zsh/site-functions/_$tool"
    "$exe" completions fish > "$share/fish/vendor_completions.d/$tool.fish"
    "$exe" man --out "$share/man/man1" > /dev/null
done
echo "installed collect and analyze in $prefix/bin, man pages in $share/man/man1,"
echo "completions for bash, zsh and fish under $share"
case ":$PATH:" in
    *":$prefix/bin:"*) ;;
    *) echo "note: $prefix/bin is not on PATH" ;;
esac
