#!/usr/bin/env bash
# The Waku Network preset: two nodes started with --preset twn join
# cluster 1 autosharded over 8 shards, and a message published by content
# topic travels between them on its autoshard. The preset turns on discv5
# with the fleet's bootstrap records (unreachable from here); the second
# node also gets the first one's ENR as a discv5 bootstrap record and finds
# it that way. This node has no RLN yet: the preset says so in the log.
# (Never point this at the real network: without RLN proofs its relays
# would not accept these messages.)
source "$(dirname "$0")/../lib.sh"

start first --preset twn --listen-address 127.0.0.1 --ports-shift 300 --rest-port 18545
wait_rest 18845
ENR="$(curl -fs http://127.0.0.1:18845/debug/v1/info |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["enrUri"])')"
start second --preset twn --listen-address 127.0.0.1 --ports-shift 301 --rest-port 18545 \
    --discv5-bootstrap-node "$ENR"
wait_rest 18846

"$WAKU" enr decode "$ENR" | python3 -c '
import json, sys
shards = json.load(sys.stdin)["shards"]
assert shards == {"cluster": 1, "shards": list(range(8))}, shards
print("first node ENR: cluster 1, shards 0..7")
' || fail "the ENR is not The Waku Network's"
grep -q "RLN rate limiting is not implemented yet" "$WORK/first.log" || fail "no RLN warning"
retry 30 grep -q "dialling a peer found through discv5" "$WORK/second.log" ||
    fail "the second node did not find the first through discv5"
echo "the second node found the first through discv5"

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
