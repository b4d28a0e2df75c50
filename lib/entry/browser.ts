/**
 * `omq/browser`: the zeromq.js API in a web page, over ws:// and wss:// (the page's WebSocket,
 * ZWS 2.0 without a mechanism) and inproc://. Built for the browser by tsup.config.ts with
 * scripts/browser-bundle.mjs; its types are the package root's.
 */
export * from "../index.js"
