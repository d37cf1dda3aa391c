// Shared plumbing for relay.mjs and light.mjs: the stdout line protocol,
// argument parsing, the global timeout and a bounded shutdown.
//
// stdout carries only protocol lines (one JSON object per line). Everything
// else (libp2p/js-waku logs enabled with DEBUG=..., console output of the
// libraries, our own diagnostics) goes to stderr.
import { parseArgs } from "node:util";

// Libraries occasionally print with console.log/info/debug (e.g. the js-waku
// "Ignore WebSocket connection failures" banner). Route all of it to stderr.
for (const method of ["log", "info", "debug"]) {
  console[method] = (...args) => console.error(...args);
}

const TERMINAL_EVENTS = new Set(["done", "timeout", "error"]);

let terminated = false;
let exiting = false;
let stage = "init";
let nodeToStop = null;
let timeoutInfo = () => ({});

export function log(...args) {
  console.error(`[${new Date().toISOString()}]`, ...args);
}

function jsonReplacer(_key, value) {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return bytesToHex(value);
  return value;
}

/** Write one protocol line to stdout. Nothing is written after a terminal event. */
export function emit(event, fields = {}) {
  if (terminated) return;
  if (TERMINAL_EVENTS.has(event)) terminated = true;
  process.stdout.write(JSON.stringify({ event, ...fields }, jsonReplacer) + "\n");
}

export function setStage(s) {
  stage = s;
  log(`stage: ${s}`);
}

export function getStage() {
  return stage;
}

/** Register the Waku node so that exit() stops it (bounded) before exiting. */
export function registerNode(node) {
  nodeToStop = node;
}

/** Extra fields added to the timeout event (e.g. counters). */
export function setTimeoutInfo(fn) {
  timeoutInfo = fn;
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Stop the node (at most 1 s), flush stdout and exit with `code`. */
export async function exit(code) {
  if (exiting) return;
  exiting = true;
  if (nodeToStop) {
    const node = nodeToStop;
    nodeToStop = null;
    await Promise.race([
      Promise.resolve()
        .then(() => node.stop())
        .catch((e) => log("error while stopping node:", e)),
      sleep(1000)
    ]);
  }
  process.stdout.write("", () => process.exit(code));
  // In case the write callback never fires.
  setTimeout(() => process.exit(code), 500).unref();
}

export function errorMessage(e) {
  if (e instanceof AggregateError && e.errors?.length) {
    return `${e.message}: ${e.errors.map(errorMessage).join("; ")}`;
  }
  if (e instanceof Error) {
    const kind = e.code ?? (e.name && e.name !== "Error" ? e.name : null);
    const text = e.message || e.name || String(e);
    return kind && !text.startsWith(kind) ? `${kind}: ${text}` : text;
  }
  return String(e);
}

/** Print the error event and exit 1. */
export async function fail(e) {
  log("fatal:", e);
  emit("error", { message: errorMessage(e), stage });
  await exit(1);
}

/** Arm the global timeout: print the timeout event and exit 3 when it fires. */
export function armTimeout(ms) {
  const timer = setTimeout(() => {
    log(`timeout after ${ms} ms in stage ${stage}`);
    emit("timeout", { stage, timeout_ms: ms, ...timeoutInfo() });
    void exit(3);
  }, ms);
  timer.unref?.();
  return timer;
}

export function installProcessHandlers() {
  process.on("uncaughtException", (e) => {
    void fail(e);
  });
  // libp2p sometimes leaves background promises rejected (aborted streams,
  // failed pings): log them, they are not fatal for the test driver.
  process.on("unhandledRejection", (reason) => {
    log("unhandled rejection (ignored):", reason);
  });
  process.stdout.on("error", (e) => {
    // stdout closed by the parent: nothing left to report to.
    if (e.code === "EPIPE") process.exit(exiting ? 0 : 1);
  });
}

/**
 * Parse the command line with node:util parseArgs (strict). Throws a usage
 * error (with `usage` appended) on unknown options or missing values.
 */
export function parseCli(options, usage) {
  try {
    const { values } = parseArgs({
      args: process.argv.slice(2),
      options,
      strict: true,
      allowPositionals: false
    });
    return values;
  } catch (e) {
    throw new Error(`${errorMessage(e)}\n${usage}`);
  }
}

export function requireArg(values, name, usage) {
  if (values[name] === undefined || values[name] === "") {
    throw new Error(`missing required option --${name}\n${usage}`);
  }
  return values[name];
}

export function intArg(values, name, { min = 0, def } = {}) {
  const raw = values[name];
  if (raw === undefined) return def;
  if (!/^-?\d+$/.test(String(raw).trim())) {
    throw new Error(`--${name} must be an integer, got ${JSON.stringify(raw)}`);
  }
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) {
    throw new Error(`--${name} must be an integer >= ${min}, got ${raw}`);
  }
  return n;
}

export function hexToBytes(hex) {
  let s = String(hex).trim();
  if (s.startsWith("0x") || s.startsWith("0X")) s = s.slice(2);
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) {
    throw new Error(`invalid hex string ${JSON.stringify(hex)}`);
  }
  return Uint8Array.from(Buffer.from(s, "hex"));
}

export function bytesToHex(bytes) {
  if (!bytes) return "";
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/** Nanosecond timestamp of a decoded js-waku message as a decimal string (or null). */
export function timestampNs(msg) {
  const raw = msg?.proto?.timestamp ?? msg?.timestamp;
  if (raw === undefined || raw === null) return null;
  if (typeof raw === "bigint") return raw.toString();
  if (raw instanceof Date) return (BigInt(raw.getTime()) * 1_000_000n).toString();
  return String(raw);
}

export function staticPubsubTopic(clusterId, shard) {
  return `/waku/2/rs/${clusterId}/${shard}`;
}
