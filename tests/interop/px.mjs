// js-waku LIGHT node (createLightNode from @waku/sdk 0.0.36, peer exchange
// from @waku/discovery 0.0.13) driven by the Rust interop tests: it dials the
// node under test and learns peers from it through 34/WAKU2-PEER-EXCHANGE.
// See README.md for the CLI and the stdout protocol.
import "./polyfill.mjs";
import {
  armTimeout,
  emit,
  errorMessage,
  exit,
  fail,
  getStage,
  installProcessHandlers,
  intArg,
  log,
  parseCli,
  registerNode,
  requireArg,
  setStage,
  setTimeoutInfo
} from "./common.mjs";
import { multiaddr } from "@multiformats/multiaddr";
import { createLightNode } from "@waku/sdk";

const PX_CODEC = "/vac/waku/peer-exchange/2.0.0-alpha1";

const USAGE = `usage: node px.mjs --peer <multiaddr .../ws/p2p/<peerid>> --cluster <C> [--num-shards <N>]
         [--expect <N>] [--expect-connected <N>] [--timeout-ms <ms>]`;

installProcessHandlers();

// --- observation hook (installed before the node is created) ---------------

// Every peer-exchange answer js-waku gets, with the peer that gave it. The
// SDK's discovery (`discovery: {peerExchange: true}`) runs
// PeerExchangeDiscovery, which calls PeerExchange.prototype.query on every
// peer that identifies with the peer-exchange codec (and again every 30 s),
// then puts each record's peer into the peer store and announces it to
// libp2p (which makes the SDK dial it). The discovery's own events do not
// say which peer answered, so wrap the (non-exported) query method of the
// same hoisted @waku/discovery copy the SDK loads.
let onPxResult = null;
{
  const discoveryIndex = import.meta.resolve("@waku/discovery");
  const { PeerExchange } = await import(new URL("./peer-exchange/peer_exchange.js", discoveryIndex));
  const original = PeerExchange.prototype.query;
  PeerExchange.prototype.query = async function (params) {
    let result;
    try {
      result = await original.call(this, params);
    } catch (e) {
      onPxResult?.(params.peerId, { peerInfos: null, error: errorMessage(e) });
      throw e;
    }
    try {
      onPxResult?.(params.peerId, result);
    } catch (e) {
      log("peer-exchange hook failed:", e);
    }
    return result;
  };
}

// --- helpers -----------------------------------------------------------------

function describeRecord(enr) {
  const info = enr?.peerInfo;
  const shardInfo = enr?.shardInfo;
  return {
    peer_id: info?.id?.toString() ?? null,
    multiaddrs: (info?.multiaddrs ?? []).map((m) => m.toString()),
    cluster_id: shardInfo?.clusterId ?? null,
    shards: shardInfo?.shards ?? null
  };
}

// --- main --------------------------------------------------------------------

async function main() {
  const args = parseCli(
    {
      peer: { type: "string" },
      cluster: { type: "string" },
      "num-shards": { type: "string" },
      expect: { type: "string" },
      "expect-connected": { type: "string" },
      "timeout-ms": { type: "string" }
    },
    USAGE
  );
  const peer = requireArg(args, "peer", USAGE);
  requireArg(args, "cluster", USAGE);
  const clusterId = intArg(args, "cluster", { min: 0 });
  const numShards = intArg(args, "num-shards", { min: 1 });
  const expect = intArg(args, "expect", { min: 1, def: 1 });
  const expectConnected = intArg(args, "expect-connected", { min: 0, def: 0 });
  const timeoutMs = intArg(args, "timeout-ms", { min: 1, def: 30000 });

  const remoteAddr = multiaddr(peer);
  const remotePeerId = remoteAddr.getPeerId();
  if (!remotePeerId) throw new Error(`--peer must end with /p2p/<peer id>: ${peer}`);

  // Peers named by --peer's answers, in the order first seen.
  const learnt = new Map();
  // Peers other than --peer js-waku has connected to.
  const connected = new Set();
  const responses = [];
  let remoteProtocols = null;
  setTimeoutInfo(() => ({
    remote_protocols: remoteProtocols,
    learnt: [...learnt.keys()],
    connected: [...connected],
    expected: expect,
    expected_connected: expectConnected,
    responses
  }));
  armTimeout(timeoutMs);

  let finished;
  const done = new Promise((r) => (finished = r));
  let waiting = false;
  const check = () => {
    if (!waiting || learnt.size < expect) return;
    const learntConnected = [...learnt.keys()].filter((id) => connected.has(id));
    if (learntConnected.length >= expectConnected) finished();
    else if (getStage() !== "connect") setStage("connect");
  };

  onPxResult = (from, { peerInfos, error }) => {
    const fromId = from.toString();
    const records = (peerInfos ?? []).map(({ ENR }) => describeRecord(ENR));
    responses.push({ from: fromId, error: error ?? null, count: records.length });
    emit("px_response", { from: fromId, error: error ?? null, peers: records });
    if (fromId !== remotePeerId || error) return;
    for (const record of records) {
      if (record.peer_id === null || learnt.has(record.peer_id)) continue;
      learnt.set(record.peer_id, record);
      emit("learnt", record);
    }
    check();
  };

  setStage("create");
  // Only peer exchange is on: no DNS discovery, no peer cache, no bootstrap
  // list. Whoever js-waku learns, it learns from --peer's answers (and then
  // from the answers of the peers it dials). networkConfig sets the cluster
  // js-waku accepts learnt peers from: its dialer skips a peer whose record's
  // `rs`/`rsv` names another cluster (README.md, "px.mjs").
  const networkConfig =
    numShards === undefined ? { clusterId } : { clusterId, numShardsInCluster: numShards };
  const node = await createLightNode({
    networkConfig,
    defaultBootstrap: false,
    discovery: { dns: false, peerExchange: true, peerCache: false },
    libp2p: {
      filterMultiaddrs: false,
      hideWebSocketInfo: true
    }
  });
  registerNode(node);
  await node.start(); // no-op when createLightNode already started it
  const ourPeerId = node.libp2p.peerId.toString();
  log(`js light node ${ourPeerId} started, networkConfig ${JSON.stringify(networkConfig)}`);

  node.libp2p.addEventListener("peer:connect", (evt) => {
    const id = evt.detail.toString();
    if (id === remotePeerId || connected.has(id)) return;
    connected.add(id);
    const conn = node.libp2p.getConnections(evt.detail)[0];
    emit("peer_connected", {
      peer_id: id,
      learnt: learnt.has(id),
      remote_addr: conn ? conn.remoteAddr.toString() : null
    });
    check();
  });
  node.libp2p.addEventListener("peer:disconnect", (evt) => {
    const id = evt.detail.toString();
    if (connected.delete(id)) log(`disconnected from ${id}`);
  });

  let identified;
  const remoteIdentified = new Promise((r) => (identified = r));
  node.libp2p.addEventListener("peer:identify", (evt) => {
    if (evt.detail.peerId.toString() === remotePeerId) {
      remoteProtocols = evt.detail.protocols;
      log(`identify from ${remotePeerId}: ${remoteProtocols.join(" ")}`);
      identified();
    }
  });

  setStage("dial");
  const conn = await node.libp2p.dial(remoteAddr);
  log(`connected to ${conn.remotePeer.toString()} via ${conn.remoteAddr.toString()}`);
  if (conn.remotePeer.toString() !== remotePeerId) {
    throw new Error(`dialled ${remotePeerId} but connected to ${conn.remotePeer.toString()}`);
  }

  setStage("identify");
  await remoteIdentified;
  if (!remoteProtocols.includes(PX_CODEC)) {
    throw new Error(`${remotePeerId} does not announce ${PX_CODEC} (identify: ${remoteProtocols.join(" ")})`);
  }
  emit("ready", { peerId: ourPeerId, remote_peer_id: remotePeerId, remote_protocols: remoteProtocols });

  // js-waku queries --peer by itself on identify (and every 30 s after).
  setStage("exchange");
  waiting = true;
  check();
  await done;
  emit("done", {
    learnt: [...learnt.keys()],
    connected: [...learnt.keys()].filter((id) => connected.has(id)),
    responses: responses.length
  });
  await exit(0);
}

main().catch(fail);
