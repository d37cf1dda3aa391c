// Must be the first import of every script in this directory.
//
// @waku/sdk 0.0.36 (and its @waku/* dependencies) declare Node >= 22. Under
// Node 20 the only missing API they reach is Promise.withResolvers (ES2024,
// shipped in Node 22), so provide it when absent.
if (typeof Promise.withResolvers !== "function") {
  Object.defineProperty(Promise, "withResolvers", {
    configurable: true,
    writable: true,
    enumerable: false,
    value: function withResolvers() {
      let resolve;
      let reject;
      const promise = new this((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    }
  });
}
