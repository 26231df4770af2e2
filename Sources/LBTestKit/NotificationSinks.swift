/// Real notification receivers as small Python programs (Debian's python3 with aiosmtpd), for tests that
/// run them as processes, inside a namespace when needed. Each writes what it receives as one JSON file
/// per message into the directory named by its first argument.
public enum NotificationSinks {
    /// aiosmtpd on 127.0.0.1: `python3 -c SMTP DIR REFUSED_RCPTS CERTS_DIR [PORT]` (REFUSED_RCPTS comma
    /// separated, CERTS_DIR empty for no STARTTLS, PORT 0 or absent for a free one, written to DIR/port).
    public static let smtp = #"""
import asyncio, json, os, ssl, sys
from aiosmtpd.smtp import SMTP

out, refuse, certs = sys.argv[1], set(filter(None, sys.argv[2].split(","))), sys.argv[3]
count = 0

class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in refuse:
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        global count
        count += 1
        record = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                  "mail_options": envelope.mail_options, "content": envelope.content.decode("utf-8"),
                  "tls": session.ssl is not None, "helo": session.host_name}
        path = os.path.join(out, "message-%d.json" % count)
        with open(path + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(path + ".tmp", path)
        return "250 2.0.0 Ok: queued"

context = None
if certs:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(os.path.join(certs, "cert.pem"), os.path.join(certs, "key.pem"))

async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(Handler(), hostname="sink.test", tls_context=context, require_starttls=context is not None),
        "127.0.0.1", int(sys.argv[4]) if len(sys.argv) > 4 else 0)
    with open(os.path.join(out, "port.tmp"), "w") as f:
        f.write(str(server.sockets[0].getsockname()[1]))
    os.rename(os.path.join(out, "port.tmp"), os.path.join(out, "port"))
    await asyncio.Event().wait()

asyncio.run(main())
"""#

    /// An HTTP receiver on 127.0.0.1: `python3 -c WEBHOOK DIR PORT`; answers 200 to every POST and writes
    /// its path, headers and body (base64) to DIR/request-N.json.
    public static let webhook = #"""
import base64, json, os, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

out, port = sys.argv[1], int(sys.argv[2])
count = 0

class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        global count
        count += 1
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        record = {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                  "body": base64.b64encode(body).decode("ascii")}
        path = os.path.join(out, "request-%d.json" % count)
        with open(path + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(path + ".tmp", path)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass

HTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""#
}
