// Self-test of the drivers without the Rust node: starts a listening js-waku
// relay node (same @waku/sdk 0.0.27) on ws://127.0.0.1, runs relay.mjs against
// it, exchanges messages in both directions and checks the stdout protocol.
// Also checks that relay.mjs and light.mjs fail fast on an unreachable peer.
//
//   node selftest.mjs        (exit 0 when everything passed)
import "./polyfill.mjs";
import { bytesToHex, hexToBytes, log, sleep } from "./common.mjs";
import { spawn } from "node:child_process";
import { createDecoder, createEncoder } from "@waku/sdk-relay";
import { createRelayNode } from "@waku/sdk-relay/relay";

const CLUSTER = 0;
const SHARD = 3;
const CONTENT_TOPIC = "/interop/1/selftest/proto";
const DEAD_PEER = "/ip4/127.0.0.1/tcp/1/ws/p2p/16Uiu2HAm3cuhhRL2msUuLF62KRSfneFDx94RsuouyW25Ho42cFMq";

function run(script, args, { onLine } = {}) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [script, ...args], {
      cwd: new URL(".", import.meta.url),
      stdio: ["ignore", "pipe", "pipe"]
    });
    const lines = [];
    let buf = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        let obj;
        try {
          obj = JSON.parse(line);
        } catch {
          obj = { event: "NOT_JSON", line };
        }
        lines.push(obj);
        onLine?.(obj);
      }
    });
    child.stderr.on("data", (d) => (stderr += d.toString()));
    child.on("exit", (code) =>
      resolve({ code, lines, stderr, ms: Date.now() - started, trailing: buf })
    );
  });
}

const failures = [];
function check(cond, what) {
  if (cond) log(`PASS ${what}`);
  else {
    log(`FAIL ${what}`);
    failures.push(what);
  }
}

async function relayExchange() {
  const pubsubTopic = `/waku/2/rs/${CLUSTER}/${SHARD}`;
  const peer = await createRelayNode({
    networkConfig: { clusterId: CLUSTER, shards: [SHARD] },
    defaultBootstrap: false,
    libp2p: {
      addresses: { listen: ["/ip4/127.0.0.1/tcp/0/ws"] },
      filterMultiaddrs: false,
      hideWebSocketInfo: true
    }
  });
  await peer.start();
  const addr = peer.libp2p.getMultiaddrs().find((a) => a.toString().includes("/ws"));
  log(`selftest peer listening on ${addr}`);

  const shardInfo = { clusterId: CLUSTER, shard: SHARD };
  const encoder = createEncoder({ contentTopic: CONTENT_TOPIC, pubsubTopicShardInfo: shardInfo });
  const gotFromJs = [];
  peer.relay.subscribe([createDecoder(CONTENT_TOPIC, shardInfo)], (m) => {
    gotFromJs.push(bytesToHex(m.payload));
  });

  const toSend = ["01020304", "cafebabe"];
  const fromPeer = ["aa55", "bb66", "cc77"];
  const res = await run(
    "relay.mjs",
    [
      "--peer", addr.toString(),
      "--cluster", String(CLUSTER),
      "--shard", String(SHARD),
      "--content-topic", CONTENT_TOPIC,
      ...toSend.flatMap((h) => ["--send-hex", h]),
      "--expect", String(fromPeer.length),
      "--timeout-ms", "20000"
    ],
    {
      onLine: (obj) => {
        if (obj.event === "ready") {
          void (async () => {
            // wait until the driver is in our mesh as well, then publish
            for (let i = 0; i < 50 && !peer.relay.getMeshPeers(pubsubTopic).includes(obj.peerId); i++) {
              await sleep(100);
            }
            for (const h of fromPeer) {
              const r = await peer.relay.send(encoder, { payload: hexToBytes(h) }).catch((e) => e);
              log(`selftest peer sent ${h}:`, r?.successes?.length ?? r);
            }
          })();
        }
      }
    }
  );
  await sleep(500);
  await peer.stop();

  log(`relay.mjs exited ${res.code} after ${res.ms} ms; stderr tail:\n${res.stderr.split("\n").slice(-8).join("\n")}`);
  const events = res.lines.map((l) => l.event);
  log("relay.mjs stdout events:", JSON.stringify(res.lines));
  check(res.code === 0, "relay exchange: relay.mjs exits 0");
  check(events[0] === "ready" && typeof res.lines[0].peerId === "string", "relay exchange: first line is ready with peerId");
  const sent = res.lines.filter((l) => l.event === "sent");
  check(sent.length === toSend.length && sent.every((s) => s.recipients >= 1), "relay exchange: every send reached the peer");
  const received = res.lines.filter((l) => l.event === "received").map((l) => l.payload_hex);
  check(JSON.stringify([...received].sort()) === JSON.stringify([...fromPeer].sort()), "relay exchange: received exactly the peer's payloads");
  check(res.lines.filter((l) => l.event === "received").every((l) => l.content_topic === CONTENT_TOPIC && /^\d+$/.test(l.timestamp)), "relay exchange: received lines carry content topic and ns timestamp");
  check(events[events.length - 1] === "done", "relay exchange: last line is done");
  check(JSON.stringify([...gotFromJs].sort()) === JSON.stringify([...toSend].sort()), "relay exchange: the peer received the driver's payloads");
  check(!res.lines.some((l) => l.event === "NOT_JSON") && res.trailing === "", "relay exchange: stdout is JSON lines only");
}

async function unreachable() {
  const common = ["--peer", DEAD_PEER, "--cluster", "0", "--shard", "0", "--content-topic", "/interop/1/chat/proto", "--timeout-ms", "5000"];
  const cases = [
    ["relay.mjs", common],
    ["light.mjs", ["--mode", "lightpush", "--send-hex", "00ff", ...common]],
    ["light.mjs", ["--mode", "filter", ...common]],
    ["light.mjs", ["--mode", "store", ...common]]
  ];
  for (const [script, args] of cases) {
    const res = await run(script, args);
    const last = res.lines[res.lines.length - 1];
    log(`${script} ${args[1]}: exit ${res.code} in ${res.ms} ms: ${JSON.stringify(res.lines)}`);
    check(
      res.code !== 0 && res.ms < 8000 && ["error", "timeout"].includes(last?.event) && res.lines.length === 1,
      `unreachable peer: ${script} ${args[0] === "--mode" ? args[1] : ""} fails fast with one error/timeout line`
    );
  }
}

try {
  await unreachable();
  await relayExchange();
} catch (e) {
  log("selftest crashed:", e);
  failures.push(String(e));
}
if (failures.length) {
  log(`${failures.length} check(s) failed:\n  ${failures.join("\n  ")}`);
  process.exit(1);
}
log("all checks passed");
process.exit(0);
