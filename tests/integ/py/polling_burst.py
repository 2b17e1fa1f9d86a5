"""A python-socketio client (Debian's python3-socketio) on polling only:
connects to korio with a token, subscribes to its todo events, says
"ready" on stdout, then counts todo:created events until it has the
number asked for or the time is up, and prints one JSON line with what
it got. python-engineio drops a session whose polling response carries
more than 16 packets, so a burst of events tests korio's cap."""

import json
import sys
import threading

import socketio


def main():
    url, token, want, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    sio = socketio.Client(reconnection=False)
    got = []
    disconnects = []
    done = threading.Event()

    @sio.on("todo:created")
    def on_created(data):
        got.append(data["id"])
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
    print(json.dumps({"received": got, "disconnects": len(disconnects), "connected": connected}), flush=True)
    if connected:
        sio.disconnect()


if __name__ == "__main__":
    main()
