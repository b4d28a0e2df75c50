/*
 * The libzmq-from-C side of the PUSH->PULL throughput scenarios (issue 19): the same two roles,
 * options, start/stop points and JSON lines as bench/pushpull-peer.ts, so bench/pushpull.ts
 * drives it like a node peer. Compiled by the runner at bench time (bench/c-peer.ts):
 *   cc -O2 -o bench/.build/pushpull-c bench/c/pushpull.c -lzmq
 *
 *   --role recv  binds a PULL on --bind (default tcp://127.0.0.1:*), prints {"type":"ready",endpoint},
 *                counts messages until an empty end marker, prints {"type":"result",...}, exits.
 *   --role send  connects a PUSH to --endpoint, sends --count messages of --size bytes (fewer if
 *                --seconds runs out, checked every 1024 messages, 64 above 4 KiB), then the end
 *                marker; prints {"type":"sent",...}; closes and exits when stdin reaches EOF.
 *   --role version  prints the libzmq version ("4.3.4") and exits.
 *   --deadline MS   watchdog: exit code 3 if still running after MS milliseconds.
 * Both sockets: linger 0, default HWM (1000), as the node peers. Errors go to stderr, exit code 1.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("[libzmq-c] error: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

static void check(int rc, const char *what) {
  if (rc == -1) die("%s: %s", what, zmq_strerror(zmq_errno()));
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_alarm(int sig) {
  (void)sig;
  static const char msg[] = "[libzmq-c] watchdog: still running after the deadline\n";
  ssize_t w = write(2, msg, sizeof msg - 1);
  (void)w;
  _exit(3);
}

static void watchdog(long ms) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, NULL);
  struct itimerval t;
  memset(&t, 0, sizeof t);
  t.it_value.tv_sec = ms / 1000;
  t.it_value.tv_usec = (ms % 1000) * 1000;
  setitimer(ITIMER_REAL, &t, NULL);
}

/* One JSON line on stdout, flushed at once: the runner waits for it. */
static void emit(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
  fflush(stdout);
}

/* A JSON string body for an endpoint: only '"' and '\\' need escaping in the addresses we bind. */
static void json_escape(char *out, size_t cap, const char *in) {
  size_t j = 0;
  for (; *in && j + 2 < cap; in++) {
    if (*in == '"' || *in == '\\') out[j++] = '\\';
    out[j++] = *in;
  }
  out[j] = '\0';
}

static int receiver(void *ctx, const char *bind) {
  void *pull = zmq_socket(ctx, ZMQ_PULL);
  if (pull == NULL) die("zmq_socket: %s", zmq_strerror(zmq_errno()));
  int linger = 0;
  check(zmq_setsockopt(pull, ZMQ_LINGER, &linger, sizeof linger), "ZMQ_LINGER");
  check(zmq_bind(pull, bind), "zmq_bind");
  char endpoint[512];
  size_t len = sizeof endpoint;
  check(zmq_getsockopt(pull, ZMQ_LAST_ENDPOINT, endpoint, &len), "ZMQ_LAST_ENDPOINT");
  char escaped[1100];
  json_escape(escaped, sizeof escaped, endpoint);
  emit("{\"type\":\"ready\",\"endpoint\":\"%s\"}", escaped);

  zmq_msg_t msg;
  check(zmq_msg_init(&msg), "zmq_msg_init");
  long long n = 0;
  double bytes = 0;
  double first = 0;
  for (;;) {
    int size = zmq_msg_recv(&msg, pull, 0);
    if (size == -1) {
      if (zmq_errno() == EINTR) continue;
      die("zmq_msg_recv: %s", zmq_strerror(zmq_errno()));
    }
    if (size == 0) break; /* the end marker */
    /* As in the node peer, only the first message starts the clock. */
    if (n++ == 0) first = now_s();
    bytes += size;
  }
  /* The end marker follows the last message on the same connection, so it stands for the last one's arrival. */
  double secs = now_s() - first;
  zmq_msg_close(&msg);
  double rate = n > 1 && secs > 0 ? (double)(n - 1) / secs : 0;
  double mb = n > 1 && secs > 0 ? bytes * (double)(n - 1) / (double)n / secs / 1e6 : 0;
  emit("{\"type\":\"result\",\"received\":%lld,\"bytes\":%.0f,\"seconds\":%.9g,\"msgsPerSec\":%.9g,\"mbPerSec\":%.9g}", n, bytes, secs,
       rate, mb);
  check(zmq_close(pull), "zmq_close");
  return 0;
}

static int sender(void *ctx, const char *endpoint, long size, long long count, double budget) {
  void *push = zmq_socket(ctx, ZMQ_PUSH);
  if (push == NULL) die("zmq_socket: %s", zmq_strerror(zmq_errno()));
  int linger = 0;
  check(zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof linger), "ZMQ_LINGER");
  check(zmq_connect(push, endpoint), "zmq_connect");
  /* One payload for every message, like the node peer's single Buffer; zmq_send copies it. */
  char *payload = malloc(size > 0 ? (size_t)size : 1);
  if (payload == NULL) die("out of memory");
  memset(payload, 0x61, (size_t)size);
  long long mask = size > 4096 ? 63 : 1023;
  double start = now_s();
  long long sent = 0;
  while (sent < count) {
    if (zmq_send(push, payload, (size_t)size, 0) == -1) {
      if (zmq_errno() == EINTR) continue;
      die("zmq_send: %s", zmq_strerror(zmq_errno()));
    }
    sent++;
    if ((sent & mask) == 0 && now_s() - start > budget) break;
  }
  while (zmq_send(push, "", 0, 0) == -1) {
    if (zmq_errno() != EINTR) die("zmq_send (end marker): %s", zmq_strerror(zmq_errno()));
  }
  emit("{\"type\":\"sent\",\"sent\":%lld,\"seconds\":%.9g}", sent, now_s() - start);
  /* The runner closes our stdin once the receiver has reported: only then close the socket (linger 0). */
  char buf[256];
  for (;;) {
    ssize_t r = read(0, buf, sizeof buf);
    if (r == 0 || (r < 0 && errno != EINTR)) break;
  }
  free(payload);
  check(zmq_close(push), "zmq_close");
  return 0;
}

static const char *arg(int argc, char **argv, const char *name, const char *dflt) {
  for (int i = 1; i + 1 < argc; i += 2)
    if (strcmp(argv[i], name) == 0) return argv[i + 1];
  return dflt;
}

static double number(int argc, char **argv, const char *name) {
  const char *v = arg(argc, argv, name, NULL);
  char *end = NULL;
  double d = v ? strtod(v, &end) : 0;
  if (v == NULL || *v == '\0' || *end != '\0') die("missing or invalid %s: %s", name, v ? v : "(none)");
  return d;
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i += 2)
    if (strncmp(argv[i], "--", 2) != 0 || i + 1 >= argc) die("usage: %s --role recv|send|version [--option value]...", argv[0]);
  const char *role = arg(argc, argv, "--role", "");
  if (strcmp(role, "version") == 0) {
    int major, minor, patch;
    zmq_version(&major, &minor, &patch);
    printf("%d.%d.%d\n", major, minor, patch);
    return 0;
  }
  watchdog((long)number(argc, argv, "--deadline"));
  void *ctx = zmq_ctx_new();
  if (ctx == NULL) die("zmq_ctx_new: %s", zmq_strerror(zmq_errno()));
  int rc;
  if (strcmp(role, "recv") == 0)
    rc = receiver(ctx, arg(argc, argv, "--bind", "tcp://127.0.0.1:*"));
  else if (strcmp(role, "send") == 0) {
    const char *endpoint = arg(argc, argv, "--endpoint", NULL);
    if (endpoint == NULL) die("send needs --endpoint");
    rc = sender(ctx, endpoint, (long)number(argc, argv, "--size"), (long long)number(argc, argv, "--count"), number(argc, argv, "--seconds"));
  } else
    die("bad --role %s", role);
  check(zmq_ctx_term(ctx), "zmq_ctx_term");
  return rc;
}
