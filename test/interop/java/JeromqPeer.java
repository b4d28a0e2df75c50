// A JeroMQ 0.3.6 (ZMTP 2.0) socket driven over stdin/stdout, for test/interop/jeromq.test.ts.
//
//   java -cp jeromq.jar:<classes> JeromqPeer <bind|connect> <TYPE> <endpoint> [identity-hex]
//
// <endpoint> "tcp://127.0.0.1:*" binds to a free port. Once bound or connected the peer prints
// "ready <endpoint>". Then one command per line, each answered with one line:
//   send <frame> ...         -> "sent"          frames as hex, "-" for an empty frame
//   recv <timeout-ms>        -> "msg <frame> ..." or "timeout"
//   sub <prefix> / unsub <prefix>  -> "ok"      (prefix as hex, "-" for all)
//   quit                     -> closes the socket and exits
// Anything that goes wrong is answered "error <text>"; the peer keeps going.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.zeromq.ZMQ;

public class JeromqPeer {
  public static void main(String[] args) throws Exception {
    if (args.length < 3) {
      System.err.println("usage: JeromqPeer <bind|connect> <TYPE> <endpoint> [identity-hex]");
      System.exit(2);
    }
    PrintStream out = new PrintStream(System.out, true, "UTF-8");
    ZMQ.Context ctx = ZMQ.context(1);
    ZMQ.Socket sock = ctx.socket(socketType(args[1]));
    sock.setLinger(0);
    if (args.length > 3) sock.setIdentity(fromHex(args[3]));
    String endpoint = args[2];
    if (args[0].equals("bind")) {
      if (endpoint.endsWith(":*")) {
        String host = endpoint.substring(0, endpoint.length() - 2);
        endpoint = host + ":" + sock.bindToRandomPort(host);
      } else {
        sock.bind(endpoint);
      }
    } else {
      sock.connect(endpoint);
    }
    out.println("ready " + endpoint);

    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
    for (String line = in.readLine(); line != null; line = in.readLine()) {
      String[] words = line.trim().split(" ");
      try {
        switch (words[0]) {
          case "send":
            for (int i = 1; i < words.length; i++) {
              byte[] frame = fromHex(words[i]);
              boolean ok = i < words.length - 1 ? sock.sendMore(frame) : sock.send(frame);
              if (!ok) throw new IllegalStateException("send failed");
            }
            out.println("sent");
            break;
          case "recv":
            sock.setReceiveTimeOut(Integer.parseInt(words[1]));
            out.println(receive(sock));
            break;
          case "sub":
            sock.subscribe(fromHex(words[1]));
            out.println("ok");
            break;
          case "unsub":
            sock.unsubscribe(fromHex(words[1]));
            out.println("ok");
            break;
          case "quit":
            sock.close();
            ctx.term();
            return;
          default:
            out.println("error unknown command " + words[0]);
        }
      } catch (Exception e) {
        out.println("error " + e);
      }
    }
    sock.close();
    ctx.term();
  }

  /** One whole message as "msg <hex> ...", or "timeout". */
  static String receive(ZMQ.Socket sock) {
    List<String> frames = new ArrayList<>();
    byte[] first = sock.recv(0);
    if (first == null) return "timeout";
    frames.add(toHex(first));
    while (sock.hasReceiveMore()) frames.add(toHex(sock.recv(0)));
    return "msg " + String.join(" ", frames);
  }

  static int socketType(String name) {
    switch (name) {
      case "PAIR": return ZMQ.PAIR;
      case "PUB": return ZMQ.PUB;
      case "SUB": return ZMQ.SUB;
      case "REQ": return ZMQ.REQ;
      case "REP": return ZMQ.REP;
      case "DEALER": return ZMQ.DEALER;
      case "ROUTER": return ZMQ.ROUTER;
      case "PULL": return ZMQ.PULL;
      case "PUSH": return ZMQ.PUSH;
      case "XPUB": return ZMQ.XPUB;
      case "XSUB": return ZMQ.XSUB;
      default: throw new IllegalArgumentException("unknown socket type " + name);
    }
  }

  static byte[] fromHex(String s) {
    if (s.equals("-")) return new byte[0];
    byte[] b = new byte[s.length() / 2];
    for (int i = 0; i < b.length; i++) b[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
    return b;
  }

  static String toHex(byte[] b) {
    if (b.length == 0) return "-";
    StringBuilder sb = new StringBuilder(b.length * 2);
    for (byte x : b) sb.append(Character.forDigit((x >> 4) & 0xf, 16)).append(Character.forDigit(x & 0xf, 16));
    return sb.toString();
  }
}
