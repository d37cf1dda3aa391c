// js-waku LIGHT node (createLightNode from @waku/sdk 0.0.36) driven by the
// Rust interop tests: lightpush, filter and store against a service node.
// See README.md for the CLI and the stdout protocol.
import "./polyfill.mjs";
import {
  armTimeout,
  bytesToHex,
  emit,
  errorMessage,
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
  timestampNs
} from "./common.mjs";
import { multiaddr } from "@multiformats/multiaddr";
import { createLightNode, Filter, Protocols } from "@waku/sdk";

const USAGE = `usage: node light.mjs --mode lightpush|filter|store --peer <multiaddr .../ws/p2p/<peerid>>
         --cluster <C> (--shard <S> | --num-shards <N>) --content-topic <T> [--timeout-ms <ms>]
  lightpush: [--send-hex <hex>]... [--raw-size <bytes>] [--legacy]
  filter:    [--content-topic <T>]... [--expect <N>] [--unsubscribe-after <N> [--quiet-ms <ms>]]
  store:     [--content-topic <T>]... [--start-ms <ms>] [--end-ms <ms>] [--page-size <n>]
             [--descending] [--hashes <hex,hex,...>]`;

installProcessHandlers();

// --- observation hooks (installed before the node is created) --------------

// Every filter push the service node sends, before the SDK's subscription
// bookkeeping (which drops pushes for content topics no longer subscribed and
// de-duplicates). Filter's constructor binds this prototype method.
let onRawFilterPush = null;
{
  const original = Filter.prototype.onIncomingMessage;
  Filter.prototype.onIncomingMessage = async function (pubsubTopic, message, peerId) {
    try {
      onRawFilterPush?.(pubsubTopic, message, peerId);
    } catch (e) {
      log("raw filter push hook failed:", e);
    }
    return original.call(this, pubsubTopic, message, peerId);
  };
}

// The SDK maps every non-200 lightpush v3 status to "Remote peer rejected";
// capture the actual status code/description from the response bytes by
// wrapping @waku/core's (non-exported) ProtocolHandler.handleV3Response.
const lightPushResponses = [];
let lightPushHookInstalled = false;
try {
  const coreIndex = import.meta.resolve("@waku/core");
  const { ProtocolHandler } = await import(new URL("./lib/light_push/protocol_handler.js", coreIndex));
  const { PushRpc } = await import(new URL("./lib/light_push/push_rpc_v3.js", coreIndex));
  const original = ProtocolHandler.handleV3Response;
  ProtocolHandler.handleV3Response = function (bytes, peerId) {
    try {
      const rpc = PushRpc.decodeResponse(bytes);
      lightPushResponses.push({
        status_code: rpc.proto.statusCode ?? null,
        status_desc: rpc.proto.statusDesc ?? null,
        relay_peer_count: rpc.proto.relayPeerCount ?? null
      });
    } catch (e) {
      lightPushResponses.push({ status_code: null, status_desc: `undecodable response: ${errorMessage(e)}` });
    }
    return original.call(this, bytes, peerId);
  };
  lightPushHookInstalled = true;
} catch (e) {
  log("could not install the lightpush status hook (status codes will be null):", e);
}

// --- helpers -----------------------------------------------------------------

function describeMessage(msg) {
  return {
    payload_hex: bytesToHex(msg.payload),
    content_topic: msg.contentTopic,
    pubsub_topic: msg.pubsubTopic,
    timestamp: timestampNs(msg),
    ephemeral: Boolean(msg.ephemeral),
    meta_hex: bytesToHex(msg.meta),
    version: msg.version ?? 0,
    hash_hex: msg.hash ? bytesToHex(msg.hash) : null
  };
}

function describeRawWakuMessage(pubsubTopic, m) {
  return {
    payload_hex: bytesToHex(m.payload),
    content_topic: m.contentTopic,
    pubsub_topic: pubsubTopic,
    timestamp: m.timestamp === undefined || m.timestamp === null ? null : m.timestamp.toString()
  };
}

// --- main --------------------------------------------------------------------

async function main() {
  const args = parseCli(
    {
      mode: { type: "string" },
      peer: { type: "string" },
      cluster: { type: "string" },
      shard: { type: "string" },
      "num-shards": { type: "string" },
      "content-topic": { type: "string", multiple: true },
      "timeout-ms": { type: "string" },
      "send-hex": { type: "string", multiple: true },
      "raw-size": { type: "string" },
      legacy: { type: "boolean" },
      expect: { type: "string" },
      "unsubscribe-after": { type: "string" },
      "quiet-ms": { type: "string" },
      "start-ms": { type: "string" },
      "end-ms": { type: "string" },
      "page-size": { type: "string" },
      descending: { type: "boolean" },
      hashes: { type: "string" }
    },
    USAGE
  );
  const mode = requireArg(args, "mode", USAGE);
  if (!["lightpush", "filter", "store"].includes(mode)) {
    throw new Error(`--mode must be lightpush, filter or store\n${USAGE}`);
  }
  const peer = requireArg(args, "peer", USAGE);
  requireArg(args, "cluster", USAGE);
  const contentTopics = requireArg(args, "content-topic", USAGE);
  const clusterId = intArg(args, "cluster", { min: 0 });
  const shard = intArg(args, "shard", { min: 0 });
  const numShards = intArg(args, "num-shards", { min: 1 });
  if ((shard === undefined) === (numShards === undefined)) {
    throw new Error(`give exactly one of --shard (static sharding) or --num-shards (autosharding)\n${USAGE}`);
  }
  const timeoutMs = intArg(args, "timeout-ms", { min: 1, def: 30000 });

  const remoteAddr = multiaddr(peer);
  const remotePeerId = remoteAddr.getPeerId();
  if (!remotePeerId) throw new Error(`--peer must end with /p2p/<peer id>: ${peer}`);

  let remoteProtocols = null;
  const counters = {};
  setTimeoutInfo(() => ({ mode, remote_protocols: remoteProtocols, ...counters }));
  armTimeout(timeoutMs);

  setStage("create");
  // Sharding in the 0.0.36 API: networkConfig is either StaticSharding
  // {clusterId} (the shard is chosen per encoder/decoder with `shardId`) or
  // AutoSharding {clusterId, numShardsInCluster} (the shard is derived from
  // the content topic). filterMultiaddrs:false lets @libp2p/websockets dial
  // plain ws:// (default: wss only unless NODE_ENV=test).
  const networkConfig =
    numShards === undefined ? { clusterId } : { clusterId, numShardsInCluster: numShards };
  const node = await createLightNode({
    networkConfig,
    defaultBootstrap: false,
    discovery: { dns: false, peerExchange: false, peerCache: false },
    numPeersToUse: 1,
    libp2p: {
      filterMultiaddrs: false,
      hideWebSocketInfo: true
    },
    lightPush: { autoRetry: false, numPeersToUse: 1 },
    filter: { numPeersToUse: 1 }
  });
  registerNode(node);
  await node.start(); // no-op when createLightNode already started it
  const ourPeerId = node.libp2p.peerId.toString();
  log(`js light node ${ourPeerId} started, networkConfig ${JSON.stringify(networkConfig)}`);

  const routing = (contentTopic) => (shard === undefined ? { contentTopic } : { contentTopic, shardId: shard });
  const decoders = contentTopics.map((t) => node.createDecoder(routing(t)));
  const pubsubTopic = decoders[0].pubsubTopic;
  if (decoders.some((d) => d.pubsubTopic !== pubsubTopic)) {
    throw new Error(`content topics map to different pubsub topics: ${decoders.map((d) => d.pubsubTopic)}`);
  }

  node.libp2p.addEventListener("peer:identify", (evt) => {
    if (evt.detail.peerId.toString() === remotePeerId) {
      remoteProtocols = evt.detail.protocols;
      log(`identify from ${remotePeerId}: ${remoteProtocols.join(" ")}`);
    }
  });

  setStage("dial");
  const protocol = { lightpush: Protocols.LightPush, filter: Protocols.Filter, store: Protocols.Store }[mode];
  // Start waiting before dialling so the peer:identify event is not missed.
  const peerReady = node.waitForPeers([protocol]);
  peerReady.catch(() => {});
  const conn = await node.libp2p.dial(remoteAddr);
  log(`connected to ${conn.remotePeer.toString()} via ${conn.remoteAddr.toString()}`);
  if (conn.remotePeer.toString() !== remotePeerId) {
    throw new Error(`dialled ${remotePeerId} but connected to ${conn.remotePeer.toString()}`);
  }

  setStage(`wait_${mode}_peer`);
  await peerReady;
  const remote = node.libp2p.getPeers().find((p) => p.toString() === remotePeerId);
  if (!remote) throw new Error(`connection to ${remotePeerId} closed before it was ready`);
  if (remoteProtocols === null) {
    remoteProtocols = (await node.libp2p.peerStore.get(remote)).protocols;
  }

  const ready = () =>
    emit("ready", {
      peerId: ourPeerId,
      remote_peer_id: remotePeerId,
      pubsub_topic: pubsubTopic,
      remote_protocols: remoteProtocols
    });

  if (mode === "lightpush") {
    await runLightPush(node, args, contentTopics[0], routing, remote, ready, counters);
  } else if (mode === "filter") {
    await runFilter(node, args, decoders, ready, counters);
  } else {
    await runStore(node, args, decoders, remote, ready, counters);
  }
}

async function runLightPush(node, args, contentTopic, routing, remote, ready, counters) {
  // The --raw-size payload goes first, so a test can check that the
  // connection still works for the --send-hex payloads after a refusal.
  const payloads = [];
  const rawSize = intArg(args, "raw-size", { min: 0 });
  if (rawSize !== undefined) {
    const payload = new Uint8Array(rawSize);
    for (let i = 0; i < rawSize; i++) payload[i] = i % 251;
    payloads.push({ payload, raw: true });
  }
  for (const h of args["send-hex"] ?? []) payloads.push({ payload: hexToBytes(h), raw: false });
  const useLegacy = Boolean(args.legacy);
  const encoder = node.createEncoder(routing(contentTopic));
  ready();
  setStage("push");
  counters.pushed = 0;
  // Ids of the open connections to the service node, so a test can tell
  // whether a refusal cost the connection.
  const connectionIds = () => node.libp2p.getConnections(remote).map((c) => c.id);
  for (const { payload, raw } of payloads) {
    lightPushResponses.length = 0;
    const connectionsBefore = connectionIds();
    const res = await node.lightPush.send(encoder, { payload }, { autoRetry: false, useLegacy });
    const responses = lightPushResponses.splice(0);
    emit("pushed", {
      ...(raw ? { payload_size: payload.length } : { payload_hex: bytesToHex(payload) }),
      success: res.successes.length > 0,
      failures: res.failures.map((f) => f.error),
      status_code: useLegacy ? null : (responses[0]?.status_code ?? null),
      status_desc: useLegacy ? null : (responses[0]?.status_desc ?? null),
      relay_peer_count: useLegacy ? null : (responses[0]?.relay_peer_count ?? null),
      protocol: useLegacy ? "/vac/waku/lightpush/2.0.0-beta1" : "/vac/waku/lightpush/3.0.0",
      status_hook: lightPushHookInstalled,
      connections_before: connectionsBefore,
      connections_after: connectionIds()
    });
    counters.pushed += 1;
  }
  emit("done", { pushed: counters.pushed });
  await exit(0);
}

async function runFilter(node, args, decoders, ready, counters) {
  const expect = intArg(args, "expect", { min: 0, def: 0 });
  const unsubscribeAfter = intArg(args, "unsubscribe-after", { min: 0 });
  const quietMs = intArg(args, "quiet-ms", { min: 0, def: 3000 });
  const target = unsubscribeAfter ?? expect;
  counters.received = 0;
  counters.received_after_unsubscribe = 0;
  let unsubscribed = false;
  let reachedTarget;
  const targetReached = new Promise((r) => (reachedTarget = r));

  onRawFilterPush = (pubsubTopic, message) => {
    if (!unsubscribed) return;
    counters.received_after_unsubscribe += 1;
    emit("received_after_unsubscribe", describeRawWakuMessage(pubsubTopic, message));
  };

  setStage("subscribe");
  const ok = await node.filter.subscribe(decoders, (msg) => {
    if (unsubscribed) return;
    emit("received", describeMessage(msg));
    counters.received += 1;
    if (counters.received >= target) reachedTarget();
  });
  if (!ok) throw new Error("filter subscribe failed: no service peer accepted the subscription");
  ready();

  setStage("receive");
  if (target > 0) await targetReached;

  if (unsubscribeAfter !== undefined) {
    setStage("unsubscribe");
    unsubscribed = true;
    const success = await node.filter.unsubscribe(decoders);
    emit("unsubscribed", { success, received: counters.received });
    setStage("quiet");
    await sleep(quietMs);
    emit("done", counters);
    await exit(counters.received_after_unsubscribe > 0 ? 4 : 0);
    return;
  }
  emit("done", counters);
  await exit(0);
}

async function runStore(node, args, decoders, remote, ready, counters) {
  const startMs = intArg(args, "start-ms", { min: 0 });
  const endMs = intArg(args, "end-ms", { min: 0 });
  const pageSize = intArg(args, "page-size", { min: 1 });
  const hashes = (args.hashes ?? "")
    .split(",")
    .map((h) => h.trim())
    .filter((h) => h.length > 0)
    .map(hexToBytes);
  if (hashes.length && (startMs !== undefined || endMs !== undefined)) {
    throw new Error("--hashes cannot be combined with --start-ms/--end-ms (js-waku rejects it)");
  }
  const options = {
    peerId: remote,
    paginationForward: !args.descending,
    includeData: true
  };
  if (startMs !== undefined) options.timeStart = new Date(startMs);
  if (endMs !== undefined) options.timeEnd = new Date(endMs);
  if (pageSize !== undefined) options.paginationLimit = pageSize;
  if (hashes.length) options.messageHashes = hashes;

  ready();
  setStage("query");
  counters.pages = 0;
  counters.received = 0;
  counters.undecoded = 0;
  for await (const page of node.store.queryGenerator(decoders, options)) {
    const msgs = await Promise.all(page);
    const decoded = msgs.filter(Boolean);
    emit("page", { index: counters.pages, count: page.length, decoded: decoded.length });
    counters.pages += 1;
    counters.undecoded += page.length - decoded.length;
    for (const msg of decoded) {
      emit("received", describeMessage(msg));
      counters.received += 1;
    }
  }
  emit("done", counters);
  await exit(0);
}

main().catch(fail);
