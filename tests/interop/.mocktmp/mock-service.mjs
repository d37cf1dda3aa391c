// TEMPORARY mock service node for exercising light.mjs (not committed).
import "../polyfill.mjs";
import { createLibp2p } from "libp2p";
import { webSockets } from "@libp2p/websockets";
import { all as filterAll } from "@libp2p/websockets/filters";
import { noise } from "@chainsafe/libp2p-noise";
import { mplex } from "@libp2p/mplex";
import { identify } from "@libp2p/identify";
import { ping } from "@libp2p/ping";
import { lpStream } from "it-length-prefixed-stream";
import { proto_lightpush, proto_filter_v2, proto_store, proto_metadata } from "@waku/proto";
import { createHash } from "node:crypto";

process.on("unhandledRejection", (e) => log("handler error:", e?.code ?? e));
const CLUSTER = Number(process.env.CLUSTER ?? 0), SHARD = Number(process.env.SHARD ?? 0);
const PUBSUB = `/waku/2/rs/${CLUSTER}/${SHARD}`;
const stored = []; // {hash, msg, pubsubTopic}
const subs = new Map(); // peerId -> {conn, topics:Set}
const log = (...a) => console.error("[mock]", ...a);

function hashOf(pt, m) {
  const h = createHash("sha256");
  h.update(pt); h.update(m.payload ?? new Uint8Array()); h.update(m.contentTopic); h.update(m.meta ?? new Uint8Array());
  if (m.timestamp) { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(m.timestamp)); h.update(b); }
  return new Uint8Array(h.digest());
}
async function deliver(pt, m) {
  const hash = hashOf(pt, m);
  stored.push({ hash, msg: m, pubsubTopic: pt });
  for (const [pid, s] of subs) {
    if (!s.topics.has(m.contentTopic)) continue;
    try {
      const st = await s.conn.newStream("/vac/waku/filter-push/2.0.0-beta1");
      const l = lpStream(st);
      await l.write(proto_filter_v2.MessagePush.encode({ wakuMessage: m, pubsubTopic: pt }));
      await st.close();
      log("pushed to", pid);
    } catch (e) { log("push failed", e); }
  }
}

const node = await createLibp2p({
  addresses: { listen: ["/ip4/127.0.0.1/tcp/0/ws"] },
  transports: [webSockets({ filter: filterAll })],
  connectionEncrypters: [noise()],
  streamMuxers: [mplex()],
  services: { identify: identify(), ping: ping() }
});
await node.handle("/vac/waku/metadata/1.0.0", async ({ stream }) => {
  const l = lpStream(stream);
  const req = proto_metadata.WakuMetadataRequest.decode(await l.read());
  log("metadata req", req);
  await l.write(proto_metadata.WakuMetadataResponse.encode({ clusterId: CLUSTER, shards: [SHARD] }));
  await stream.close();
});
await node.handle("/vac/waku/lightpush/3.0.0", async ({ stream }) => {
  const l = lpStream(stream, { maxDataLength: 4 * 1024 * 1024 });
  const req = proto_lightpush.LightPushRequestV3.decode(await l.read());
  const size = proto_lightpush.WakuMessage.encode(req.message).length;
  let statusCode = 200, statusDesc;
  if (size > 150 * 1024) { statusCode = 413; statusDesc = "message size exceeded"; }
  else if (req.pubsubTopic !== PUBSUB) { statusCode = 421; statusDesc = "unsupported pubsub topic"; }
  log("lightpush", size, statusCode);
  await l.write(proto_lightpush.LightPushResponseV3.encode({ requestId: req.requestId, statusCode, statusDesc, relayPeerCount: statusCode === 200 ? 1 : undefined }));
  await stream.close();
  if (statusCode === 200) await deliver(req.pubsubTopic, req.message);
});
await node.handle("/vac/waku/filter-subscribe/2.0.0-beta1", async ({ stream, connection }) => {
  const l = lpStream(stream);
  const req = proto_filter_v2.FilterSubscribeRequest.decode(await l.read());
  log("filter", req.filterSubscribeType, req.contentTopics);
  const pid = connection.remotePeer.toString();
  if (req.filterSubscribeType === "SUBSCRIBE") {
    const s = subs.get(pid) ?? { conn: connection, topics: new Set() };
    req.contentTopics.forEach((t) => s.topics.add(t)); subs.set(pid, s);
  } else if (req.filterSubscribeType === "UNSUBSCRIBE") {
    const s = subs.get(pid); if (s) { req.contentTopics.forEach((t) => s.topics.delete(t)); if (process.env.IGNORE_UNSUB) req.contentTopics.forEach((t) => s.topics.add(t)); }
  } else if (req.filterSubscribeType === "UNSUBSCRIBE_ALL") subs.delete(pid);
  await l.write(proto_filter_v2.FilterSubscribeResponse.encode({ requestId: req.requestId, statusCode: 200, statusDesc: "OK" }));
  await stream.close();
});
await node.handle("/vac/waku/store-query/3.0.0", async ({ stream }) => {
  const l = lpStream(stream);
  const req = proto_store.StoreQueryRequest.decode(await l.read());
  log("store", { ...req, messageHashes: req.messageHashes.map((h) => Buffer.from(h).toString("hex")), paginationCursor: req.paginationCursor && Buffer.from(req.paginationCursor).toString("hex") });
  let list = stored.filter((s) => s.pubsubTopic === req.pubsubTopic || req.messageHashes.length);
  if (req.messageHashes.length) list = list.filter((s) => req.messageHashes.some((h) => Buffer.from(h).equals(Buffer.from(s.hash))));
  else {
    list = list.filter((s) => req.contentTopics.includes(s.msg.contentTopic));
    if (req.timeStart !== undefined) list = list.filter((s) => s.msg.timestamp >= req.timeStart);
    if (req.timeEnd !== undefined) list = list.filter((s) => s.msg.timestamp <= req.timeEnd);
  }
  if (!req.paginationForward) list = [...list].reverse();
  if (req.paginationCursor) { const i = list.findIndex((s) => Buffer.from(s.hash).equals(Buffer.from(req.paginationCursor))); list = list.slice(i + 1); }
  const limit = Number(req.paginationLimit ?? 20n);
  const page = list.slice(0, limit);
  await l.write(proto_store.StoreQueryResponse.encode({ requestId: req.requestId, statusCode: 200, statusDesc: "OK", messages: page.map((s) => ({ messageHash: s.hash, message: req.includeData ? s.msg : undefined, pubsubTopic: s.pubsubTopic })), paginationCursor: page.length ? page[page.length - 1].hash : undefined }));
  await stream.close();
});
await node.start();
process.stdout.write(node.getMultiaddrs().map(String).find((a) => a.includes("/ws")) + "\n");
process.stdin.on("data", async (d) => { // lines "publish <contentTopic> <hex>"
  for (const line of d.toString().split("\n").filter(Boolean)) {
    const [cmd, ct, hex] = line.split(" ");
    if (cmd === "publish") await deliver(PUBSUB, { payload: Buffer.from(hex, "hex"), contentTopic: ct, timestamp: BigInt(Date.now()) * 1000000n });
  }
});
