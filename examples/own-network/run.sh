#!/usr/bin/env bash
# A project's own network on one host: three nodes of cluster 66 from one
# config file, finding each other through their own discv5 (bootstrapped
# from the first node's ENR). The first keeps an archive; the second publishes; the third
# reads the message from its REST cache, and the first answers a store query.
source "$(dirname "$0")/../lib.sh"
CONFIG="$ROOT/examples/own-network/node.toml"
TOPIC=/waku/2/rs/66/0
ENC_TOPIC="$(urlencode "$TOPIC")"

start bootstrap --config-file "$CONFIG" --ports-shift 0 --store --store-message-db-url memory://
wait_rest 18645
BOOTSTRAP="$(curl -fs http://127.0.0.1:18645/debug/v1/info |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["enrUri"])')"
echo "bootstrap node: $BOOTSTRAP"
start publisher --config-file "$CONFIG" --ports-shift 1 --discv5-bootstrap-node "$BOOTSTRAP"
start reader --config-file "$CONFIG" --ports-shift 2 --discv5-bootstrap-node "$BOOTSTRAP"
wait_rest 18646
wait_rest 18647
# Each finds the others through discv5 and dials them.
retry 30 grep -q "dialling a peer found through discv5" "$WORK/reader.log" ||
    fail "the reader found no peer through discv5"

curl -fs -X POST -H 'content-type: application/json' -d "[\"$TOPIC\"]" \
    "http://127.0.0.1:18647/relay/v1/subscriptions" >/dev/null || fail "subscribe"

# Both reach the bootstrap node; the mesh forms within a heartbeat or two.
publish() {
    curl -fs -X POST -H 'content-type: application/json' \
        -d '{"payload":"aGVsbG8sIG93biBuZXR3b3Jr","contentTopic":"/own/1/hello/proto"}' \
        "http://127.0.0.1:18646/relay/v1/messages/$ENC_TOPIC"
}
received() {
    curl -fs "http://127.0.0.1:18647/relay/v1/messages/$ENC_TOPIC" | grep -q aGVsbG8sIG93biBuZXR3b3Jr
}
publish_until_received() {
    publish >/dev/null || return 1
    retry 2 received
}
retry 30 publish_until_received || fail "the reader did not receive the message"
echo "reader received the message published on $TOPIC"

archived() {
    curl -fs "http://127.0.0.1:18645/store/v3/messages?pubsubTopic=$ENC_TOPIC&includeData=true" |
        grep -q aGVsbG8sIG93biBuZXR3b3Jr
}
retry 10 archived || fail "the bootstrap node did not archive the message"
echo "bootstrap node's store answers with it"
echo "own-network: OK"
