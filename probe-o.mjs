const lib = await import(process.argv[2])
const cases = [["sendHighWaterMark", -1],["sendHighWaterMark", 1.5],["receiveTimeout", 1.5],["sendTimeout", 0.1],["sendTimeout", -2],["linger","10"],["linger",-2],["linger",NaN],["immediate",1],["conflate","yes"],["reconnectInterval",NaN],["reconnectInterval",-2],["reconnectMaxInterval",-1],["heartbeatInterval",-1],["heartbeatTimeout","100"],["heartbeatTimeToLive",6553600],["handshakeInterval",Infinity],["connectTimeout",null],["maxMessageSize",-2],["tcpKeepalive",2],["routingId",""],["routingId",Buffer.from([0,1,2])],["routingId","x".repeat(256)],["routingId",42],["linger", 2**32+5],["maxMessageSize", 1.7], ["affinity", -1], ["rate", 0], ["curveServerKey", "abc"], ["zapDomain", 5]]
for (const [n, v] of cases) {
  const s = new lib.Dealer()
  const before = s[n]
  try { s[n] = v; console.log(n, String(v).slice(0,12), "ok ->", s[n]) } catch (e) { console.log(n, String(v).slice(0,12), e.constructor.name, e.code, e.message, "now", s[n] === before ? "unchanged" : s[n]) }
  s.close()
}
