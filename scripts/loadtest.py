"""Load test of the sandbox (see scripts/loadtest)."""

import argparse
import http.client
import json
import os
import re
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of the line (11 and 12 after the command).
    return (int(fields[11]) + int(fields[12])) / TICKS


def peak_rss_mib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


CARTS = 200


def write_urls(folder, urls):
    path = Path(folder) / "urls.txt"
    path.write_text("\n".join(urls) + "\n")
    return str(path)


def call(method, url, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={
        "content-type": "application/json", **(headers or {}),
    })
    return json.load(urllib.request.urlopen(request))


def carts_to_fill(base, key, owner, count):
    """Makes `count` empty carts and picks a variant with a million units in stock (received
    by the demo company's `owner`) for them to fill: answers the cart ids and the variant id."""
    company, email, password = owner
    login = call("POST", f"{base}/admin/auth/login",
                 {"company": company, "email": email, "password": password})
    staff = {"authorization": f"Bearer {login['access_token']}"}
    listing = call("GET", f"{base}/store/products?limit=1", headers={"x-api-key": key})
    page = call("GET", f"{base}/store/products/{listing['data'][0]['handle']}",
                headers={"x-api-key": key})
    variant = page["variants"][0]["id"]
    location = call("GET", f"{base}/admin/locations", headers=staff)["data"][0]["id"]
    call("POST", f"{base}/admin/inventory/adjustments", {
        "variant_id": variant, "location_id": location, "delta": 1_000_000,
        "reason": "received",
    }, headers=staff)
    carts = [call("POST", f"{base}/store/carts", {}, headers={"x-api-key": key})["id"]
             for _ in range(count)]
    return carts, variant


ADDRESS = {"first_name": "Sam", "last_name": "Shopper", "line1": "Torstraße 1",
           "city": "Berlin", "postal_code": "10119", "country": "DE"}


def ready_carts(base, key, variant, count, workers=8):
    """Makes `count` guest carts of one unit of `variant`, each with an email, an address in
    Germany, the first shipping option and a test-provider payment session: ready to check out.
    """
    headers = {"x-api-key": key}

    def one(_):
        cart = call("POST", f"{base}/store/carts", {
            "email": "load@example.com", "items": [{"variant_id": variant, "quantity": 1}],
        }, headers=headers)["id"]
        url = f"{base}/store/carts/{cart}"
        call("PATCH", url, {"shipping_address": ADDRESS}, headers=headers)
        option = call("GET", f"{url}/shipping-options", headers=headers)["data"][0]["id"]
        call("POST", f"{url}/shipping-method", {"option_id": option}, headers=headers)
        call("POST", f"{url}/payment-sessions", {"provider": "test"}, headers=headers)
        return cart

    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, range(count)))


def check_out(base, key, carts, connections):
    """Checks every cart out, `connections` at a time, each on its own keep-alive connection:
    answers (seconds, latencies, statuses)."""
    host = urllib.parse.urlsplit(base).netloc
    body = json.dumps({"payment_details": {"card_number": "4242424242424242"}})
    queue = list(carts)
    lock = threading.Lock()
    latencies, statuses = [], {}

    def worker():
        connection = http.client.HTTPConnection(host)
        while True:
            with lock:
                if not queue:
                    break
                cart = queue.pop()
            started = time.perf_counter()
            connection.request("POST", f"/store/carts/{cart}/complete", body, {
                "content-type": "application/json", "x-api-key": key,
                "idempotency-key": f"load-{cart}",
            })
            response = connection.getresponse()
            response.read()
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses[response.status] = statuses.get(response.status, 0) + 1
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started, sorted(latencies), statuses


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--oha", required=True)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--checkouts", type=int, default=2000,
                        help="carts made ready, then checked out at --connections at a time")
    args = parser.parse_args()

    data = tempfile.mkdtemp(prefix="commerce-loadtest-")
    log = open(Path(data) / "sandbox.log", "w+")
    sandbox = subprocess.Popen(
        [str(ROOT / "target/release/sandbox"), "--memory", "--port", "0", "--seed", "demo"],
        stdout=log, stderr=subprocess.DEVNULL, env=dict(os.environ, RUST_LOG="warn"),
    )
    try:
        text = ""
        for _ in range(240):
            log.seek(0)
            text = log.read()
            if "Press Ctrl-C" in text:
                break
            time.sleep(0.25)
        base = re.search(r"listening on (http://[0-9.:]+)", text).group(1)
        key = re.search(r"pk_[A-Za-z0-9]+", text).group(0)
        request = urllib.request.Request(f"{base}/store/products?limit=20", headers={"x-api-key": key})
        listing = json.load(urllib.request.urlopen(request))
        handle = listing["data"][0]["handle"]
        owner = re.search(r"owner sign-in\s+company (\S+), (\S+) / (\S+)", text).groups()
        carts, variant = carts_to_fill(base, key, owner, CARTS)
        targets = [
            ("listing of 20 products", [f"{base}/store/products?limit=20"]),
            ("product page", [f"{base}/store/products/{handle}"]),
            # Each request adds one unit of the same variant to one of the carts, at random.
            ("add to cart", [
                "-m", "POST", "-T", "application/json",
                "-d", json.dumps({"variant_id": variant, "quantity": 1}),
                "--urls-from-file", write_urls(data, [f"{base}/store/carts/{c}/items" for c in carts]),
            ]),
        ]
        print(f"{args.connections} connections, {args.seconds} s each, sandbox pid {sandbox.pid}")
        print(f"{'route':<26}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'CPU ms/req':>12}")
        for name, target in targets:
            before = cpu_seconds(sandbox.pid)
            out = subprocess.run(
                [args.oha, "-z", f"{args.seconds}s", "-c", str(args.connections), "--no-tui",
                 "--output-format", "json", "-H", f"x-api-key: {key}", *target],
                check=True, capture_output=True, text=True,
            ).stdout
            cpu = cpu_seconds(sandbox.pid) - before
            result = json.loads(out)
            summary = result["summary"]
            total = sum(result.get("statusCodeDistribution", {}).values())
            ok = result.get("statusCodeDistribution", {}).get("200", 0)
            # Requests still in flight when the duration ends are cut off by oha, not failed.
            failures = {k: v for k, v in result.get("errorDistribution", {}).items()
                        if "deadline" not in k.lower()}
            errors = total - ok + sum(failures.values())
            if failures:
                print(f"  errors: {failures}")
            if total != ok:
                print(f"  statuses: {result.get('statusCodeDistribution')}")
            p = result["latencyPercentiles"]
            print(f"{name:<26}{summary['requestsPerSec']:>9.0f}{p['p50'] * 1000:>9.2f}"
                  f"{p['p99'] * 1000:>9.2f}{errors:>8}{cpu * 1000 / max(total, 1):>12.3f}")
        # Checkout: carts made ready first (not timed), then all checked out; every order of the
        # one company takes its number from the same counter, and every unit comes from the
        # same stock level.
        carts = ready_carts(base, key, variant, args.checkouts)
        before = cpu_seconds(sandbox.pid)
        seconds, latencies, statuses = check_out(base, key, carts, args.connections)
        cpu = cpu_seconds(sandbox.pid) - before
        placed = statuses.get(201, 0)
        pct = lambda p: latencies[min(len(latencies) * p // 100, len(latencies) - 1)] * 1000
        if placed != len(carts):
            print(f"  statuses: {statuses}")
        print(f"{'checkout':<26}{len(carts) / seconds:>9.0f}{pct(50):>9.2f}"
              f"{pct(99):>9.2f}{len(carts) - placed:>8}{cpu * 1000 / max(len(carts), 1):>12.3f}")
        print(f"peak RSS of the sandbox: {peak_rss_mib(sandbox.pid):.1f} MiB")
    finally:
        sandbox.terminate()
        sandbox.wait()


if __name__ == "__main__":
    main()
