#!/usr/bin/env bash
# The Waku Network preset: two nodes started with --preset twn join
# cluster 1 autosharded over 8 shards, and a message published by content
# topic travels between them on its autoshard. This node has neither RLN nor
# discovery yet: the preset says so in the log, and the second node is given
# the first with --staticnode. (Never point this at the real network: without
# RLN proofs its relays would not accept these messages.)
source "$(dirname "$0")/../lib.sh"

start first --preset twn --listen-address 127.0.0.1 --ports-shift 300 --rest-port 18545
wait_rest 18845
FIRST="$(listen_addr 18845)"
start second --preset twn --listen-address 127.0.0.1 --ports-shift 301 --rest-port 18545 \
    --staticnode "$FIRST"
wait_rest 18846

ENR="$(curl -fs http://127.0.0.1:18845/debug/v1/info |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["enrUri"])')"
"$WAKU" enr decode "$ENR" | python3 -c '
import json, sys
shards = json.load(sys.stdin)["shards"]
assert shards == {"cluster": 1, "shards": list(range(8))}, shards
print("first node ENR: cluster 1, shards 0..7")
' || fail "the ENR is not The Waku Network's"
grep -q "RLN rate limiting is not implemented yet" "$WORK/first.log" || fail "no RLN warning"

CT=/twn-example/1/hello/proto
SHARD="$("$WAKU" shard "$CT")"
echo "content topic $CT is on $SHARD"
curl -fs -X POST -H 'content-type: application/json' -d "[\"$CT\"]" \
    http://127.0.0.1:18846/relay/v1/auto/subscriptions >/dev/null || fail "subscribe"
publish_until_received() {
    curl -fs -X POST -H 'content-type: application/json' \
        -d "{\"payload\":\"dHdu\",\"contentTopic\":\"$CT\"}" \
        http://127.0.0.1:18845/relay/v1/auto/messages >/dev/null || return 1
    retry 2 sh -c "curl -fs http://127.0.0.1:18846/relay/v1/auto/messages/$(urlencode "$CT") | grep -q dHdu"
}
retry 30 publish_until_received || fail "the second node did not receive the message"
echo "the second node received the message by content topic"
echo "twn: OK"
