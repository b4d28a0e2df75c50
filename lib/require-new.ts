/**
 * zeromq.js's `Socket` and `Proxy` are native classes: called without `new` they throw
 * "Class constructors cannot be invoked without 'new'". A JavaScript class says
 * "Class constructor X cannot…", so the exported classes are wrapped to answer as the native
 * ones do. The wrapper is transparent otherwise: `new`, `extends`, `instanceof` and statics
 * all reach the class itself.
 */
export function requireNew<C extends abstract new (...args: never[]) => unknown>(cls: C): C {
  return new Proxy(cls, {
    apply() {
      throw new TypeError("Class constructors cannot be invoked without 'new'")
    },
  })
}
