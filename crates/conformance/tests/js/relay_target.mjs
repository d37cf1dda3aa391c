// A js-waku relay node (createRelayNode of @waku/sdk 0.0.27, the version
// pinned in tests/interop) that listens on ws://127.0.0.1 for the
// conformance runner to dial. Fed to `node --input-type=module` on stdin
// with tests/interop as the working directory, so its imports resolve
// there. Prints one JSON line {"listening": "<multiaddr with /p2p/>"}, then
// serves until killed. Every 500 ms it publishes a message on the shard
// (content topic /waku-conformance/1/js-target/proto), so the runner has
// something it relays of its own accord: a relay node serves no lightpush
// to ask it to publish.
//
// Usage: node --input-type=module - <cluster> <shard> < relay_target.mjs
import "./polyfill.mjs";
import { createEncoder } from "@waku/sdk-relay";
import { createRelayNode } from "@waku/sdk-relay/relay";

const [clusterId, shard] = process.argv.slice(2).map((a) => Number.parseInt(a, 10));
if (!Number.isInteger(clusterId) || !Number.isInteger(shard)) {
  console.error("usage: node --input-type=module - <cluster> <shard>");
  process.exit(2);
}
for (const method of ["log", "info", "debug"]) {
  console[method] = (...args) => console.error(...args);
}

const node = await createRelayNode({
  networkConfig: { clusterId, shards: [shard] },
  defaultBootstrap: false,
  libp2p: {
    filterMultiaddrs: false,
    hideWebSocketInfo: true,
    addresses: { listen: ["/ip4/127.0.0.1/tcp/0/ws"] }
  }
});
await node.start();
const addr = node.libp2p
  .getMultiaddrs()
  .map((a) => a.toString())
  .find((a) => a.includes("/ws"));
if (!addr) {
  console.error("no ws listen address");
  process.exit(1);
}
process.stdout.write(JSON.stringify({ listening: addr }) + "\n");

const encoder = createEncoder({
  contentTopic: "/waku-conformance/1/js-target/proto",
  pubsubTopicShardInfo: { clusterId, shard }
});
let count = 0;
setInterval(() => {
  count += 1;
  // Nobody subscribed yet: gossipsub refuses (no peers); try again later.
  node.relay
    .send(encoder, { payload: new TextEncoder().encode(`js-waku relay target ${count}`) })
    .catch((e) => console.error(`publish ${count}: ${e}`));
}, 500);
process.on("SIGTERM", async () => {
  await node.stop();
  process.exit(0);
});
