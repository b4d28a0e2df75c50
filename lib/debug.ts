/**
 * The `debug` package's loggers, one namespace per layer (`omq:engine`, `omq:socket`,
 * `omq:transport`, `omq:queue`), enabled as usual with `DEBUG=omq:*`.
 *
 * `debug` reads every environment variable when it is loaded (its `DEBUG_*` options). Deno
 * refuses that without `--allow-env` (and on a terminal asks the user), so a static import
 * would make importing omq itself need the permission. It is therefore imported here, and only
 * where the environment may be read (environment.ts): always on Node and Bun; on Deno when
 * env access is granted. Elsewhere the loggers do nothing.
 *
 * The import is a dynamic `import("debug")`: bundlers follow it (a bundle carries `debug`
 * inside), where a computed `require` would be left to fail at run time. It completes a few
 * milliseconds after omq is loaded; what is logged before that is kept (up to EARLY_MAX calls)
 * and passed to `debug` once it is there, so nothing logged at start-up is lost.
 */
import { environmentReadable } from "./environment.js"

/** A logger for one namespace: printf-style, as `debug`'s (`%s`, `%d`, `%O`, …). */
export type Logger = (formatter: string, ...args: unknown[]) => void

type DebugFactory = (namespace: string) => Logger

/** Calls kept until `debug` is loaded; beyond this many, further early ones are dropped. */
const EARLY_MAX = 1000

const loggers = new Map<string, Logger>()
let factory: DebugFactory | undefined
/** Calls made before `debug` was loaded; undefined once it is, or when it never will be. */
let early: { namespace: string; args: [string, ...unknown[]] }[] | undefined

function real(namespace: string): Logger {
  let log = loggers.get(namespace)
  if (log === undefined) loggers.set(namespace, (log = factory!(namespace)))
  return log
}

function load(): Promise<void> {
  if (!environmentReadable()) return Promise.resolve()
  early = []
  return import("debug").then(
    (m) => {
      factory = ((m as { default?: DebugFactory }).default ?? m) as DebugFactory
      for (const { namespace, args } of early!.splice(0)) real(namespace)(...args)
      early = undefined
    },
    () => {
      early = undefined // no debug package: the loggers stay silent
    },
  )
}

/** Resolves once `debug` is loaded (and the early calls passed on), failed to load, or will not be. */
export const debugLoaded: Promise<void> = load()

/** The logger for `namespace` (`omq:<layer>`). */
export function createDebug(namespace: string): Logger {
  return (...args) => {
    if (factory !== undefined) real(namespace)(...args)
    else if (early !== undefined && early.length < EARLY_MAX) early.push({ namespace, args })
  }
}
