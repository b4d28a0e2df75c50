/**
 * omq and libzmq (the `zeromq` package, zeromq.js) talking on this runtime, from the built
 * package. zeromq.js is a native addon: Deno loads it (with --allow-ffi); Bun aborts the process
 * on it (it lacks libuv's uv_poll_init_socket), so there the checks are skipped.
 *
 * On Deno a zeromq.js receive that has to wait is sometimes never woken, with libzmq on both
 * ends too (about 1 run in 10 here; zeromq.js waits on libzmq's edge-triggered ZMQ_FD through
 * Deno's libuv emulation). So the libzmq sockets receive by polling: receiveTimeout 0 and a
 * retry every few ms, which gets each message at once on every runtime.
 */
import * as omq from "omq"
import * as path from "node:path"
import { check, done, runtime, same, scratchDir, skip, strings } from "./harness.mjs"

const checks = ["tcp: omq PUSH to libzmq PULL", "ipc: libzmq REQ to omq REP", "tcp: omq CURVE client to a libzmq CURVE server"]

if (runtime === "bun") {
  for (const name of checks) skip(name, "zeromq.js does not run on Bun (panic: unsupported uv function: uv_poll_init_socket)")
  done()
}

const zmq = await import("zeromq")

/** A message from libzmq socket `s` (created with receiveTimeout: 0), polling; see above. */
async function pollReceive(s) {
  for (;;) {
    try {
      return await s.receive()
    } catch (err) {
      if (err.code !== "EAGAIN") throw err
      await new Promise((r) => setTimeout(r, 5))
    }
  }
}

await check(checks[0], async () => {
  const pull = new zmq.Pull({ receiveTimeout: 0 })
  const push = new omq.Push()
  try {
    await pull.bind("tcp://127.0.0.1:*")
    push.connect(pull.lastEndpoint)
    await push.send(["from", "omq"])
    same(strings(await pollReceive(pull)), ["from", "omq"])
  } finally {
    push.close()
    pull.close()
  }
})

await check(checks[1], async () => {
  const rep = new omq.Reply()
  const req = new zmq.Request({ receiveTimeout: 0 })
  try {
    await rep.bind(`ipc://${path.join(scratchDir(), "interop.sock")}`)
    req.connect(rep.lastEndpoint)
    await req.send("ping")
    same(strings(await rep.receive()), ["ping"])
    await rep.send("pong")
    same(strings(await pollReceive(req)), ["pong"])
  } finally {
    req.close()
    rep.close()
  }
})

await check(checks[2], async () => {
  const server = zmq.curveKeyPair()
  const client = omq.curveKeyPair()
  const pull = new zmq.Pull({ curveServer: true, curveSecretKey: server.secretKey, receiveTimeout: 0 })
  const push = new omq.Push({ curveServerKey: server.publicKey, curvePublicKey: client.publicKey, curveSecretKey: client.secretKey })
  try {
    await pull.bind("tcp://127.0.0.1:*")
    push.connect(pull.lastEndpoint)
    await push.send("encrypted")
    same(strings(await pollReceive(pull)), ["encrypted"])
  } finally {
    push.close()
    pull.close()
  }
})

done()
