// js-waku RELAY node (createRelayNode from @waku/sdk 0.0.27, which bundles
// @waku/relay 0.0.14) driven by the Rust interop tests. See README.md for the
// CLI and the stdout protocol.
import "./polyfill.mjs";
import {
  armTimeout,
  bytesToHex,
  emit,
  exit,
  fail,
  hexToBytes,
  installProcessHandlers,
  intArg,
  log,
  parseCli,
  registerNode,
  requireArg,
  setStage,
  setTimeoutInfo,
  sleep,
  staticPubsubTopic,
  timestampNs
} from "./common.mjs";
import { multiaddr } from "@multiformats/multiaddr";
import { createDecoder, createEncoder } from "@waku/sdk-relay";
import { createRelayNode } from "@waku/sdk-relay/relay";

const USAGE = `usage: node relay.mjs --peer <multiaddr .../ws/p2p/<peerid>> --cluster <C> --shard <S>
         --content-topic <T> [--send-hex <hex>]... [--expect <N>] [--timeout-ms <ms>]
         [--ready-when mesh|subscribed] [--send-attempts <n>] [--send-retry-ms <ms>]`;

installProcessHandlers();

async function main() {
  const args = parseCli(
    {
      peer: { type: "string" },
      cluster: { type: "string" },
      shard: { type: "string" },
      "content-topic": { type: "string" },
      "send-hex": { type: "string", multiple: true },
      expect: { type: "string" },
      "timeout-ms": { type: "string" },
      "ready-when": { type: "string" },
      "send-attempts": { type: "string" },
      "send-retry-ms": { type: "string" }
    },
    USAGE
  );
  const peer = requireArg(args, "peer", USAGE);
  requireArg(args, "cluster", USAGE);
  requireArg(args, "shard", USAGE);
  const contentTopic = requireArg(args, "content-topic", USAGE);
  const clusterId = intArg(args, "cluster", { min: 0 });
  const shard = intArg(args, "shard", { min: 0 });
  const expect = intArg(args, "expect", { min: 0, def: 0 });
  const timeoutMs = intArg(args, "timeout-ms", { min: 1, def: 30000 });
  const sendAttempts = intArg(args, "send-attempts", { min: 1, def: 5 });
  const sendRetryMs = intArg(args, "send-retry-ms", { min: 0, def: 500 });
  const readyWhen = args["ready-when"] ?? "mesh";
  if (!["mesh", "subscribed"].includes(readyWhen)) {
    throw new Error(`--ready-when must be "mesh" or "subscribed"\n${USAGE}`);
  }
  const payloads = (args["send-hex"] ?? []).map(hexToBytes);

  const remoteAddr = multiaddr(peer);
  const remotePeerId = remoteAddr.getPeerId();
  if (!remotePeerId) throw new Error(`--peer must end with /p2p/<peer id>: ${peer}`);

  const pubsubTopic = staticPubsubTopic(clusterId, shard);
  const sentHex = new Set();
  const pending = [];
  let received = 0;
  let ready = false;
  let finished = false;
  let resolveAllReceived;
  const allReceived = new Promise((r) => (resolveAllReceived = r));

  let node = null;
  let remoteProtocols = null;
  setTimeoutInfo(() => {
    const info = { received, expected: expect, remote_protocols: remoteProtocols };
    const gs = node?.relay?.gossipSub;
    if (gs) {
      info.connected = node.libp2p.getPeers().some((p) => p.toString() === remotePeerId);
      info.remote_subscribed = gs.getSubscribers(pubsubTopic).some((p) => p.toString() === remotePeerId);
      info.remote_in_mesh = gs.getMeshPeers(pubsubTopic).includes(remotePeerId);
    }
    return info;
  });
  armTimeout(timeoutMs);

  const report = (msg) => {
    emit("received", {
      payload_hex: bytesToHex(msg.payload),
      content_topic: msg.contentTopic,
      pubsub_topic: msg.pubsubTopic,
      timestamp: timestampNs(msg),
      ephemeral: Boolean(msg.ephemeral),
      meta_hex: bytesToHex(msg.meta),
      version: msg.version ?? 0
    });
    received += 1;
    if (received >= expect) resolveAllReceived();
  };

  const onMessage = (msg) => {
    if (finished) return;
    const hex = bytesToHex(msg.payload);
    if (sentHex.has(hex)) {
      log(`ignoring a message carrying a payload we sent ourselves: ${hex}`);
      return;
    }
    if (!ready) {
      pending.push(msg);
      return;
    }
    report(msg);
  };

  setStage("create");
  // Static sharding in the 0.0.27 API: networkConfig = ShardInfo
  // {clusterId, shards}; the node's pubsub topics are /waku/2/rs/<C>/<S>
  // (derivePubsubTopicsFromNetworkConfig). The same list configures the
  // metadata service (it answers {clusterId, shards:[S]}) and the gossipsub
  // topics the relay subscribes to on start.
  // filterMultiaddrs:false makes @libp2p/websockets dial plain ws:// (its
  // default filter only accepts wss, or ws when NODE_ENV=test).
  node = await createRelayNode({
    networkConfig: { clusterId, shards: [shard] },
    defaultBootstrap: false,
    libp2p: {
      filterMultiaddrs: false,
      hideWebSocketInfo: true
    }
  });
  registerNode(node);
  await node.start();
  const ourPeerId = node.libp2p.peerId.toString();
  log(`js relay node ${ourPeerId} started, pubsub topics ${node.pubsubTopics}`);
  if (!node.relay) throw new Error("relay protocol not mounted");
  if (!node.pubsubTopics.includes(pubsubTopic)) {
    throw new Error(`node pubsub topics ${node.pubsubTopics} do not include ${pubsubTopic}`);
  }

  const shardInfo = { clusterId, shard };
  const decoder = createDecoder(contentTopic, shardInfo);
  const encoder = createEncoder({ contentTopic, pubsubTopicShardInfo: shardInfo });
  if (decoder.pubsubTopic !== pubsubTopic || encoder.pubsubTopic !== pubsubTopic) {
    throw new Error(
      `encoder/decoder pubsub topic mismatch: ${encoder.pubsubTopic} / ${decoder.pubsubTopic}, expected ${pubsubTopic}`
    );
  }
  // Register the observer before dialling so nothing is missed; messages that
  // arrive before "ready" is printed are buffered and reported after it.
  node.relay.subscribe([decoder], onMessage);

  node.libp2p.addEventListener("peer:identify", (evt) => {
    if (evt.detail.peerId.toString() === remotePeerId) {
      remoteProtocols = evt.detail.protocols;
      log(`identify from ${remotePeerId}: ${remoteProtocols.join(" ")}`);
    }
  });

  setStage("dial");
  const conn = await node.libp2p.dial(remoteAddr);
  log(`connected to ${conn.remotePeer.toString()} via ${conn.remoteAddr.toString()}`);
  if (conn.remotePeer.toString() !== remotePeerId) {
    throw new Error(`dialled ${remotePeerId} but connected to ${conn.remotePeer.toString()}`);
  }

  setStage(`wait_relay_peer_${readyWhen}`);
  const gossipSub = node.relay.gossipSub;
  for (;;) {
    const peers =
      readyWhen === "mesh"
        ? gossipSub.getMeshPeers(pubsubTopic)
        : gossipSub.getSubscribers(pubsubTopic).map((p) => p.toString());
    if (peers.includes(remotePeerId)) break;
    const connected = node.libp2p.getPeers().some((p) => p.toString() === remotePeerId);
    if (!connected) {
      throw new Error(`connection to ${remotePeerId} closed while waiting for it to become a relay peer on ${pubsubTopic}`);
    }
    await sleep(100);
  }

  emit("ready", { peerId: ourPeerId, remote_peer_id: remotePeerId, pubsub_topic: pubsubTopic });
  ready = true;
  for (const msg of pending.splice(0)) report(msg);

  setStage("send");
  for (const payload of payloads) {
    const hex = bytesToHex(payload);
    sentHex.add(hex);
    let recipients = [];
    let failures = [];
    let attempts = 0;
    while (attempts < sendAttempts) {
      attempts += 1;
      try {
        const res = await node.relay.send(encoder, { payload });
        recipients = res.successes.map((p) => p.toString());
        failures = res.failures.map((f) => f.error);
      } catch (e) {
        // gossipsub throws PublishError.InsufficientPeers when nobody is
        // subscribed to the topic yet.
        recipients = [];
        failures = [e instanceof Error ? e.message : String(e)];
      }
      if (recipients.length > 0) break;
      log(`send attempt ${attempts} of ${hex} reached no peer (${failures.join(", ")})`);
      if (attempts < sendAttempts) await sleep(sendRetryMs);
    }
    emit("sent", {
      payload_hex: hex,
      recipients: recipients.length,
      recipient_peer_ids: recipients,
      attempts,
      failures
    });
  }

  setStage("receive");
  if (received < expect) await allReceived;
  finished = true;
  emit("done", { received, sent: payloads.length });
  await exit(0);
}

main().catch(fail);
