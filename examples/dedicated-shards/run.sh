#!/usr/bin/env bash
# Dedicated shard 32 of cluster 16 for the application "myapp": two nodes
# from node.toml. A message of myapp signed with the project's key travels on
# shard 32 and is archived; an unsigned one is refused; a burst beyond the
# shard's rate is cut down.
source "$(dirname "$0")/../lib.sh"
CONFIG="$ROOT/examples/dedicated-shards/node.toml"
# The project's signing key (its public key is in node.toml).
KEY=0101010101010101010101010101010101010101010101010101010101010101
SHARD=/waku/2/rs/16/32

start service --config-file "$CONFIG"
wait_rest 18745
SERVICE="$(listen_addr 18745)"
start publisher --config-file "$CONFIG" --ports-shift 1 --store=false --staticnode "$SERVICE"
wait_rest 18746

# signed N: a message of myapp signed for shard 32, as a REST body.
signed() {
    "$WAKU" sign --key "$KEY" --pubsub-topic "$SHARD" \
        --content-topic /myapp/1/chat/proto --payload "$1"
}
post() {
    curl -fs -X POST -H 'content-type: application/json' -d "$1" \
        http://127.0.0.1:18746/relay/v1/auto/messages
}
archived() {
    curl -fs "http://127.0.0.1:18745/store/v3/messages?contentTopics=%2Fmyapp%2F1%2Fchat%2Fproto&includeData=true" |
        python3 -c 'import json,sys; m=json.load(sys.stdin)["messages"]; sys.exit(0 if any(x["pubsubTopic"]=="'"$SHARD"'" for x in m) else 1)'
}
publish_until_archived() {
    post "$(signed first)" >/dev/null || return 1
    retry 2 archived
}
retry 30 publish_until_archived || fail "the signed message was not archived on $SHARD"
echo "a signed message of myapp went to $SHARD and was archived"

if post '{"payload":"dW5zaWduZWQ=","contentTopic":"/myapp/1/chat/proto"}' >/dev/null; then
    fail "an unsigned message was accepted on the protected shard"
fi
echo "an unsigned message was refused"

sleep 1.5 # a full bucket for the burst
accepted=0
for i in $(seq 30); do
    if post "$(signed "burst $i")" >/dev/null; then accepted=$((accepted + 1)); fi
done
[ "$accepted" -ge 1 ] && [ "$accepted" -le 20 ] ||
    fail "$accepted of 30 burst messages accepted (limit 5/s)"
echo "a burst of 30 was cut to $accepted by the shard's rate limit"
echo "dedicated-shards: OK"
