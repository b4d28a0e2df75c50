/**
 * Stands for a Node module a page does not have (node:net, node:fs, node:path, node:util) in
 * test scaffolding: nothing is exported, so code that reaches it (the tcp and ipc transports)
 * fails when it runs, not when the bundle loads.
 */
export {}
