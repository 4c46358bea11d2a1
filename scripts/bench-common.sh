# Sourced by the bench scripts: the build cache, a scratch directory removed on exit,
# and GNU time's figures for a command.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/metron-target}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# seconds and peak RSS (KiB) of a command, from GNU time
measure() {
  /usr/bin/time -f '%e %M' -o "$WORK/time" "$@" >/dev/null
  cat "$WORK/time"
}
# events/s from a count and seconds
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s <= 0) s = 0.001; printf "%.0f", n / s }'; }
# BIN: the release binary, built now; METRON_BIN names an already built one instead.
release_bin() {
  if [ -n "${METRON_BIN:-}" ]; then BIN=$METRON_BIN; else
    cargo build --release --quiet
    BIN=$CARGO_TARGET_DIR/release/metron
  fi
}
