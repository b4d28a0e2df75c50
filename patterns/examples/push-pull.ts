/** PUSH/PULL pipeline: a ventilator pushes tasks, a worker pulls them. */
import { Pull, Push } from "../../lib/index.js"

export async function pushPull(endpoint: string): Promise<string> {
  const worker = new Pull()
  await worker.bind(endpoint)

  const ventilator = new Push()
  ventilator.connect(worker.lastEndpoint!)

  const tasks = ["resize a.png", "resize b.png", "resize c.png"]
  for (const task of tasks) await ventilator.send(task)

  const done: string[] = []
  for await (const [task] of worker) {
    done.push(task!.toString())
    if (done.length === tasks.length) break
  }
  ventilator.close()
  worker.close()
  return `${done.length} tasks over ${worker.lastEndpoint}: ${done.join(", ")}`
}
