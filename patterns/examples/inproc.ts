/**
 * inproc:// inside one process: no network stack, no copies. The Buffer a
 * stage sends is the very Buffer the next stage receives.
 */
import { Context, Pull, Push } from "../../lib/index.js"

export async function inprocPipeline(): Promise<string> {
  const ctx = new Context() // inproc names are per context
  const sink = new Pull({ context: ctx })
  const source = new Push({ context: ctx })
  source.connect("inproc://stage") // connecting before the bind is fine
  await sink.bind("inproc://stage")

  const payload = Buffer.from("zero-copy payload")
  await source.send(payload)
  const [received] = await sink.receive()
  const sameObject = received === payload

  const start = process.hrtime.bigint()
  const n = 100_000
  const reading = (async () => {
    for (let i = 0; i < n; i++) await sink.receive()
  })()
  for (let i = 0; i < n; i++) await source.send(payload)
  await reading
  const ms = Number(process.hrtime.bigint() - start) / 1e6

  source.close()
  sink.close()
  return `same Buffer object: ${sameObject}; ${n} messages in ${ms.toFixed(0)} ms`
}
