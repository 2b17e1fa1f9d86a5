"""A python-socketio client (Debian's python3-socketio) on polling only:
connects to korio with a token, subscribes to its todo events, says
"ready" on stdout, then counts todo:created events until it has the
number asked for or the time is up, and prints one JSON line with what
it got. python-engineio drops a session whose polling response carries
more than 16 packets, so a burst of events tests korio's cap.

With connection-state recovery on (korio's default), every broadcast
carries its offset as one more, last, argument, as with Node's socket.io
and connectionStateRecovery: the handler takes the rest as *extra and
reports them."""

import json
import sys
import threading

import socketio


def main():
    url, token, want, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    sio = socketio.Client(reconnection=False)
    got = []
    extra = []
    disconnects = []
    done = threading.Event()

    @sio.on("todo:created")
    def on_created(data, *rest):
        got.append(data["id"])
        extra.append(list(rest))
        if len(got) >= want:
            done.set()

    @sio.event
    def disconnect():
        disconnects.append(1)
        done.set()

    sio.connect(url, transports=["polling"], auth={"token": token}, wait_timeout=10)
    ack = sio.call("subscribe:todos", timeout=10)
    print(json.dumps({"ready": True, "ack": ack}), flush=True)
    done.wait(secs)
    connected = sio.connected
    print(json.dumps({"received": got, "extra": extra, "disconnects": len(disconnects), "connected": connected}),
          flush=True)
    if connected:
        sio.disconnect()


if __name__ == "__main__":
    main()
