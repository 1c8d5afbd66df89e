"""A real SMTP server on 127.0.0.1 for the tests that send email over the wire."""
from __future__ import annotations

import socketserver
import threading
import time
from email import message_from_bytes, policy
from email.message import Message


class _SmtpSession(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) for smtplib: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT."""

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 sink ready")
        envelope: dict = {"rcpt": []}
        while line := self.rfile.readline():
            command = line.decode().strip()
            verb = command.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.reply("250-sink")
                self.reply("250 AUTH PLAIN")
            elif verb == "AUTH":
                envelope["auth"] = command.split(" ", 2)[2]
                self.reply("235 ok")
            elif verb == "MAIL":
                envelope["from"] = command
                self.reply("250 ok")
            elif verb == "RCPT":
                envelope["rcpt"].append(command)
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 go on")
                self.server.sink.receive(self.rfile, envelope)
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


class SmtpSink:
    """A real SMTP server on 127.0.0.1 that keeps what it receives. `delay` holds each message
    before accepting it, to widen race windows."""

    def __init__(self, *, delay: float = 0.0):
        self.messages: list[Message] = []
        self.envelopes: list[dict] = []
        self.delay = delay
        self._lock = threading.Lock()
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpSession)
        self._server.daemon_threads = True
        self._server.sink = self

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self._server.server_address[1]}"

    def receive(self, rfile, envelope: dict) -> None:
        lines = []
        while (line := rfile.readline()) not in (b".\r\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)
        time.sleep(self.delay)
        with self._lock:
            self.messages.append(message_from_bytes(b"".join(lines), policy=policy.default))
            self.envelopes.append(dict(envelope))

    def __enter__(self) -> "SmtpSink":
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
