#!/usr/bin/python3
"""Independent DNS-SD browser for the tests (python3-zeroconf, not mdns-sd).

Browses _duet._udp.local. until --expect services are resolved or --timeout
seconds pass, then prints a JSON array of
{"instance", "name", "peer_id", "proto", "addresses", "port"}.
"""
import argparse
import json
import sys
import time

from zeroconf import ServiceBrowser, ServiceStateChange, Zeroconf

TYPE = "_duet._udp.local."


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--expect", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=10)
    args = ap.parse_args()
    zc = Zeroconf()
    names = set()

    def on_change(zeroconf, service_type, name, state_change):
        if state_change in (ServiceStateChange.Added, ServiceStateChange.Updated):
            names.add(name)
        elif state_change is ServiceStateChange.Removed:
            names.discard(name)

    ServiceBrowser(zc, TYPE, handlers=[on_change])
    found = {}
    end = time.monotonic() + args.timeout
    while time.monotonic() < end and len(found) < args.expect:
        for name in list(names):
            if name in found:
                continue
            info = zc.get_service_info(TYPE, name, timeout=1000)
            if info is None:
                continue
            props = {k.decode(): (v.decode() if v is not None else None)
                     for k, v in info.properties.items()}
            found[name] = {
                "instance": name[: -len(TYPE) - 1],
                "name": props.get("name"),
                "peer_id": props.get("peer_id"),
                "proto": props.get("proto"),
                "addresses": info.parsed_addresses(),
                "port": info.port,
            }
        time.sleep(0.1)
    zc.close()
    json.dump(sorted(found.values(), key=lambda s: s["instance"]), sys.stdout)
    print()


if __name__ == "__main__":
    main()
