/**
 * omq's handles (servers, connections, timers) do not keep Node's event loop
 * alive by themselves, like zeromq.js: a process whose sockets have nothing
 * to wait for may exit. A pending send() or receive() holds the loop open
 * through this shared reference count. One long interval timer is created
 * once and only ref()'d / unref()'d (cheap flag flips), since waits come and
 * go once per message on busy sockets.
 */
let holders = 0
let handle: NodeJS.Timeout | undefined

export function holdLoop(): void {
  if (holders++ === 0) {
    handle ??= setInterval(() => {}, 1 << 30)
    handle.ref()
  }
}

export function releaseLoop(): void {
  if (--holders === 0) handle?.unref()
}
