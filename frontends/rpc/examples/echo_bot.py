#!/usr/bin/env python3
"""Echo bot for Veil's JSON-RPC frontend (python3 standard library only).

Connects to a running `veil daemon`'s socket, subscribes to its event stream, and answers every
incoming text with "echo: <text>". Messages that were already waiting unread when the bot
started are answered too (the `receive` method). Writing to someone accepts their message
request, so strangers get an answer as well.

    veil --home ~/bot daemon &                 # with "rpc" in kernel.plugins of ~/bot/veil.toml
    python3 echo_bot.py ~/bot/rpc.sock

Prints one line when it is ready ("echo bot ready: <its Veil ID>") and one per answer; exits 0
when the daemon closes the socket, 1 when it cannot connect.
"""

import itertools
import json
import socket
import sys


class Rpc:
    """One JSON-RPC connection: newline-delimited JSON, requests numbered from 1."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.reader = self.sock.makefile("r", encoding="utf-8", newline="\n")
        self.ids = itertools.count(1)
        self.waiting = {}  # id -> method, for answers we have not seen yet

    def send(self, method, params=None):
        """Sends a request without waiting; its answer comes back through lines()."""
        request = {"jsonrpc": "2.0", "method": method, "id": next(self.ids)}
        if params is not None:
            request["params"] = params
        self.waiting[request["id"]] = method
        self.sock.sendall((json.dumps(request) + "\n").encode("utf-8"))
        return request["id"]

    def call(self, method, params=None, on_event=None):
        """Sends a request and returns its result; events read meanwhile go to on_event."""
        wanted = self.send(method, params)
        for message in self.lines():
            if message.get("id") == wanted:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']['message']}")
                return message["result"]
            if on_event is not None:
                on_event(message)
        raise ConnectionError("the daemon closed the socket")

    def lines(self):
        """Every JSON value the daemon sends, until it closes the socket."""
        for line in self.reader:
            if line.strip():
                yield json.loads(line)


class EchoBot:
    def __init__(self, rpc):
        self.rpc = rpc
        self.answered = set()  # message ids already echoed (an event and `receive` may overlap)

    def on_message(self, message):
        """Echoes one incoming message once."""
        if message["outgoing"] or not message["text"] or message["id"] in self.answered:
            return
        self.answered.add(message["id"])
        self.rpc.send("send", {"to": message["peer"], "text": "echo: " + message["text"]})
        self.rpc.send("mark_read", {"peer": message["peer"]})
        print(f"echoed a message from {message['peer']}", flush=True)

    def on_line(self, value):
        """Handles a notification, or the answer to one of our fire-and-forget requests."""
        if "id" in value:
            method = self.rpc.waiting.pop(value["id"], "?")
            if "error" in value:
                print(f"{method} failed: {value['error']['message']}", file=sys.stderr, flush=True)
            return
        if value.get("method") == "message" and value["params"]["event"] == "added":
            self.on_message(value["params"]["message"])

    def run(self):
        me = self.rpc.call("profile")["id"]
        self.rpc.call("subscribe", on_event=self.on_line)
        for message in self.rpc.call("receive", on_event=self.on_line):
            self.on_message(message)
        print(f"echo bot ready: {me}", flush=True)
        for value in self.rpc.lines():
            self.on_line(value)


def main():
    if len(sys.argv) != 2:
        print("usage: echo_bot.py SOCKET   (e.g. HOME/rpc.sock of a running `veil daemon`)", file=sys.stderr)
        return 2
    try:
        rpc = Rpc(sys.argv[1])
    except OSError as e:
        print(f"echo bot: cannot connect to {sys.argv[1]}: {e.strerror}", file=sys.stderr)
        return 1
    try:
        EchoBot(rpc).run()
    except (ConnectionError, RuntimeError) as e:
        print(f"echo bot: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    print("echo bot: the daemon closed the socket", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
