#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
# flows-lab.py: the traffic of test-flows.sh, standard library only.
#
#   flows-lab.py http PORT      HTTP/1.0 server: GET /sleep/MS answers after
#                               MS milliseconds, GET /big sends 300,000 bytes
#   flows-lab.py hold PORT      TCP server: per connection, reads a 4-byte
#                               count N and sends N bytes, then waits
#   flows-lab.py idle ADDR PORT N...  one connection per N: sends N / 2
#                               bytes with the count N, reads the N bytes,
#                               prints "LPORT", then all stay open and idle
#                               until killed (their ss -ti numbers are still)
#   flows-lab.py sink PORT      TCP server: reads each connection to its end
#   flows-lab.py send ADDR PORT N BYTES  N connections one after another,
#                               each sending BYTES and closing once the
#                               server closed too
import http.server
import socket
import socketserver
import struct
import sys
import threading
import time

BIG = 300000


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.startswith("/sleep/"):
            time.sleep(int(self.path[7:]) / 1000.0)
            body = b"ok\n"
        elif self.path == "/big":
            body = b"b" * BIG
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Hold(socketserver.BaseRequestHandler):
    def handle(self):
        s = self.request
        n = struct.unpack("!I", recv_all(s, 4))[0]
        s.sendall(b"h" * n)
        while s.recv(65536):
            pass


class Sink(socketserver.BaseRequestHandler):
    def handle(self):
        while self.request.recv(65536):
            pass


def serve(handler, port):
    """A threaded TCP server of @handler on @port, until killed."""
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    socketserver.ThreadingTCPServer.daemon_threads = True
    socketserver.ThreadingTCPServer(("0.0.0.0", port), handler).serve_forever()


def recv_all(s, n):
    data = b""
    while len(data) < n:
        got = s.recv(n - len(data))
        if not got:
            raise EOFError("peer closed")
        data += got
    return data


def main():
    mode = sys.argv[1]
    if mode == "http":
        http.server.ThreadingHTTPServer.allow_reuse_address = True
        srv = http.server.ThreadingHTTPServer(("0.0.0.0", int(sys.argv[2])),
                                              Handler)
        srv.serve_forever()
    elif mode == "hold":
        serve(Hold, int(sys.argv[2]))
    elif mode == "sink":
        serve(Sink, int(sys.argv[2]))
    elif mode == "send":
        for _ in range(int(sys.argv[4])):
            s = socket.create_connection((sys.argv[2], int(sys.argv[3])))
            s.sendall(b"s" * int(sys.argv[5]))
            s.shutdown(socket.SHUT_WR)
            while s.recv(65536):
                pass
            s.close()
    elif mode == "idle":
        conns = []
        for n in sys.argv[4:]:
            n = int(n)
            s = socket.create_connection((sys.argv[2], int(sys.argv[3])))
            s.sendall(struct.pack("!I", n) + b"c" * (n // 2))
            recv_all(s, n)
            conns.append(s)
            print(s.getsockname()[1], flush=True)
        threading.Event().wait()
    else:
        sys.exit("flows-lab.py: unknown mode " + mode)


if __name__ == "__main__":
    main()
