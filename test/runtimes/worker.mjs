/** sockets.mjs's worker thread: a PUSH to the inproc address it is given, closed when told. */
import { parentPort, workerData } from "node:worker_threads"
import { Push } from "omq"

const push = new Push()
push.connect(workerData.address)
await push.send(["from a worker", workerData.address])
parentPort.once("message", () => {
  push.close()
  parentPort.close()
})
