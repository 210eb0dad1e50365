"""A small real IMAP4rev1 server on a local socket: enough of RFC 3501 for a mailbox poller
(CAPABILITY, LOGIN, SELECT/EXAMINE with UIDVALIDITY, UID SEARCH, UID FETCH, NOOP, LOGOUT)."""

from __future__ import annotations

import re
import socketserver
import threading
from dataclasses import dataclass, field


@dataclass
class ImapStub:
    user: str = "support@shop.example"
    password: str = "imap-password"
    uidvalidity: int = 1001
    messages: list[tuple[int, bytes]] = field(default_factory=list)  # (uid, raw)
    commands: list[str] = field(default_factory=list)
    # Close the connection after this many fetched messages (a dropped connection mid-batch).
    drop_after_fetching: int | None = None

    def add(self, raw: bytes) -> int:
        uid = (self.messages[-1][0] + 1) if self.messages else 1
        self.messages.append((uid, raw))
        return uid

    def start(self) -> ImapStub:
        stub = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.wfile.write(b"* OK [CAPABILITY IMAP4rev1] stub ready\r\n")
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    text = line.decode("utf-8", "replace").rstrip("\r\n")
                    stub.commands.append(text)
                    if not stub._answer(text, self.wfile):
                        return

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, text: str, out) -> bool:
        tag, _, rest = text.partition(" ")
        command, _, args = rest.partition(" ")
        command = command.upper()
        if command == "UID":
            sub, _, args = args.partition(" ")
            command = f"UID {sub.upper()}"
        if command == "CAPABILITY":
            out.write(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n")
        elif command == "LOGIN":
            parts = [p.strip('"') for p in args.split(" ")]
            if parts != [self.user, self.password]:
                out.write(f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials\r\n".encode())
                return True
        elif command in ("SELECT", "EXAMINE"):
            uidnext = (self.messages[-1][0] + 1) if self.messages else 1
            out.write(
                "* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft)\r\n"
                f"* {len(self.messages)} EXISTS\r\n"
                f"* 0 RECENT\r\n* OK [UIDVALIDITY {self.uidvalidity}] UIDs valid\r\n"
                f"* OK [UIDNEXT {uidnext}] Predicted next UID\r\n".encode()
            )
            out.write(f"{tag} OK [READ-ONLY] {command} completed\r\n".encode())
            return True
        elif command == "UID SEARCH":
            uids = self._matching(args)
            out.write(("* SEARCH " + " ".join(str(u) for u in uids)).rstrip().encode() + b"\r\n")
        elif command == "UID FETCH":
            wanted = set(self._uid_set(args.split(" ")[0]))
            fetched = 0
            for seq, (uid, raw) in enumerate(self.messages, start=1):
                if uid not in wanted:
                    continue
                if self.drop_after_fetching is not None and fetched >= self.drop_after_fetching:
                    return False  # hang up mid-batch
                out.write(f"* {seq} FETCH (UID {uid} BODY[] {{{len(raw)}}}\r\n".encode() + raw + b")\r\n")
                fetched += 1
        elif command == "LOGOUT":
            out.write(f"* BYE logging out\r\n{tag} OK LOGOUT completed\r\n".encode())
            return False
        elif command not in ("NOOP", "CLOSE"):
            out.write(f"{tag} BAD unknown command\r\n".encode())
            return True
        out.write(f"{tag} OK {command} completed\r\n".encode())
        return True

    def _uid_set(self, spec: str) -> list[int]:
        top = self.messages[-1][0] if self.messages else 0
        uids: list[int] = []
        for part in spec.split(","):
            start, _, end = part.partition(":")
            low = top if start == "*" else int(start)
            high = low if not end else (top if end == "*" else int(end))
            low, high = min(low, high), max(low, high)
            uids.extend(uid for uid, _ in self.messages if low <= uid <= high)
        return sorted(set(uids))

    def _matching(self, criteria: str) -> list[int]:
        match = re.search(r"UID (\S+)", criteria, re.IGNORECASE)
        if match:
            return self._uid_set(match.group(1))
        return [uid for uid, _ in self.messages]
