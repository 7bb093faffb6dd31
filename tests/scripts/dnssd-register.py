#!/usr/bin/python3
"""Registers a hand-made _duet._udp.local. record (python3-zeroconf), to feed
nodes malformed or lying records. Runs until killed.

  dnssd-register.py --instance NAME --ip IP --port PORT [--txt key=value]...
"""
import argparse
import socket
import time

from zeroconf import ServiceInfo, Zeroconf

TYPE = "_duet._udp.local."


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--instance", required=True)
    ap.add_argument("--ip", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--txt", action="append", default=[])
    args = ap.parse_args()
    props = dict(kv.split("=", 1) for kv in args.txt)
    info = ServiceInfo(
        TYPE,
        f"{args.instance}.{TYPE}",
        addresses=[socket.inet_aton(args.ip)],
        port=args.port,
        properties=props,
        server=f"fake-{args.instance.lower().replace(' ', '-')}.local.",
    )
    zc = Zeroconf()
    zc.register_service(info)
    print("registered", flush=True)
    try:
        while True:
            time.sleep(1)
    finally:
        zc.unregister_service(info)
        zc.close()


if __name__ == "__main__":
    main()
