#!/usr/bin/env bash
# Network listeners: N syslog messages (LF-framed, ~110 bytes) over 4 TCP connections on
# loopback into `metron listen -o FILE`, next to rsyslog (imtcp -> omfile, the message as
# received) receiving the same load in the same run; then `metron parse --listen` with
# syslog parsing. Each receiver is timed from the first connection to the last message
# on disk. Prints messages/s, the ratio and peak RSS.
# Usage: scripts/bench-listen.sh [N]   (default N = 2000000)
set -euo pipefail
N=${1:-2000000}
cd "$(dirname "$0")/.."
. scripts/bench-common.sh
release_bin
if ! command -v rsyslogd >/dev/null && [ "$(id -u)" = 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rsyslog >/dev/null
fi
PORT=${PORT:-17514}

# Four files of N/4 lines each, one per connection.
python3 - "$WORK" "$N" <<'EOF'
import sys
work, n = sys.argv[1], int(sys.argv[2])
for c in range(4):
    with open(f"{work}/conn{c}.log", "w") as f:
        for i in range(n // 4):
            f.write(f"<134>Dec  3 10:{i % 60:02d}:{c * 7 % 60:02d} sensor{c} sshd[{1000 + i % 5000}]: "
                    f"Accepted publickey for user{i % 97} from 10.{c}.{i % 250}.{i % 200} port {1024 + i % 60000}\n")
EOF
TOTAL=$(( (N / 4) * 4 ))
BYTES=$(cat "$WORK"/conn?.log | wc -c)

# Sends the four files at once and returns when they are sent.
send() {
  python3 - "$WORK" "$PORT" <<'EOF'
import socket, sys, threading
work, port = sys.argv[1], int(sys.argv[2])
def run(c):
    s = socket.create_connection(("127.0.0.1", port))
    with open(f"{work}/conn{c}.log", "rb") as f:
        s.sendall(f.read())
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    s.close()
ts = [threading.Thread(target=run, args=(c,)) for c in range(4)]
[t.start() for t in ts]
[t.join() for t in ts]
EOF
}

# Waits until FILE has reached SIZE bytes.
wait_size() {
  while [ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -lt "$2" ]; do sleep 0.01; done
}

now() { date +%s.%N; }
peak_kb() { awk '/VmHWM/ { print $2 }' "/proc/$1/status"; }
printf '%-44s %12s %10s %10s\n' "run ($TOTAL messages, 4 TCP connections)" "messages/s" "seconds" "peak RSS"
report() { printf '%-44s %12s %10.2f %9sM\n' "$1" "$(rate "$TOTAL" "$2")" "$2" "$(( $3 / 1024 ))"; }

# metron listen
# Sends the load to receiver PID and waits until FILE holds every byte; SECS from the
# first connection to then, RSS the receiver's peak; then stops the receiver.
receive() { # pid file
  local t0 t1
  t0=$(now); send; wait_size "$2" "$BYTES"; t1=$(now)
  RSS=$(peak_kb "$1"); kill -TERM "$1"; wait "$1" || true
  SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
}

"$BIN" listen -q "tcp://127.0.0.1:$PORT" -o "$WORK/metron.out" &
MPID=$!
sleep 0.5
receive $MPID "$WORK/metron.out"
s_metron=$SECS
report "metron listen -o FILE" "$s_metron" "$RSS"

# rsyslog: imtcp -> omfile, the raw message and a newline (the same bytes)
if command -v rsyslogd >/dev/null; then
  mkdir -p "$WORK/rs"
  cat > "$WORK/rs/rsyslog.conf" <<EOF
global(workDirectory="$WORK/rs")
module(load="imtcp")
template(name="raw" type="string" string="%rawmsg%\n")
input(type="imtcp" port="$PORT" address="127.0.0.1")
action(type="omfile" file="$WORK/rsyslog.out" template="raw")
EOF
  rsyslogd -n -f "$WORK/rs/rsyslog.conf" -i "$WORK/rs/pid" &
  RPID=$!
  sleep 1
  receive $RPID "$WORK/rsyslog.out"
  s_rs=$SECS
  report "rsyslogd (imtcp -> omfile)" "$s_rs" "$RSS"
  awk -v a="$s_rs" -v b="$s_metron" 'BEGIN { printf "ratio vs rsyslog: listen %.2fx\n", a / b }'
else
  echo "rsyslog not installed: no comparison (apt-get install -y rsyslog)"
fi

# metron parse --listen, syslog parsing, to a file; SIGTERM as soon as the senders are
# done, and timed to the exit (which comes after every received message is written)
"$BIN" parse -q --format syslog --listen "tcp://127.0.0.1:$PORT" -o "$WORK/parsed.ndjson" &
PPID_=$!
sleep 0.5
t0=$(now); send
p_rss=$(peak_kb $PPID_); kill -TERM $PPID_; wait $PPID_ || true
t1=$(now)
[ "$(wc -l < "$WORK/parsed.ndjson")" = "$TOTAL" ] || echo "parse --listen wrote $(wc -l < "$WORK/parsed.ndjson") of $TOTAL events"
s_parse=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
report "metron parse --listen --format syslog" "$s_parse" "$p_rss"
