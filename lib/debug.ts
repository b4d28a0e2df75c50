/**
 * The `debug` package's loggers, one namespace per layer (`omq:engine`, `omq:socket`,
 * `omq:transport`, `omq:queue`), enabled as usual with `DEBUG=omq:*`.
 *
 * `debug` reads every environment variable when it is loaded (its `DEBUG_*` options). Deno
 * refuses that without `--allow-env` (and on a terminal asks the user), so a static import
 * would make importing omq itself need the permission. It is therefore loaded here, and only
 * where the environment may be read (environment.ts): always on Node and Bun; on Deno when
 * env access is granted. Elsewhere the loggers do nothing.
 */
import { createRequire } from "node:module"
import { environmentReadable } from "./environment.js"

/** A logger for one namespace: printf-style, as `debug`'s (`%s`, `%d`, `%O`, …). */
export type Logger = (formatter: string, ...args: unknown[]) => void

type DebugFactory = (namespace: string) => Logger

/** `require` for this module: from its URL in ESM; the CommonJS build has no import.meta. */
function requireHere(): NodeJS.Require {
  let url: string | undefined
  // The try never catches: inside one, esbuild's CommonJS build (where import.meta is an
  // empty object) does not warn about import.meta.
  try {
    url = import.meta.url
  } catch {}
  return createRequire(url ?? __filename)
}

const silent: Logger = () => {}
const factory: DebugFactory | undefined = environmentReadable() ? (requireHere()("debug") as DebugFactory) : undefined

/** The logger for `namespace` (`omq:<layer>`). */
export function createDebug(namespace: string): Logger {
  return factory ? factory(namespace) : silent
}
