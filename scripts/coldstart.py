"""Cold-start measurement of the function binaries (see scripts/coldstart)."""

import argparse
import json
import os
import statistics
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent
# The machine's own target triple: binaries are built for it, to be run here.
HOST_TARGET = next(line.split(": ", 1)[1] for line in subprocess.run(
    ["rustc", "-vV"], check=True, capture_output=True, text=True).stdout.splitlines()
    if line.startswith("host: "))
PREFIX = "/2018-06-01/runtime"


class RuntimeApi:
    """A minimal Lambda Runtime API serving one event, then holding the next poll."""

    def __init__(self, event):
        self.event = event
        self.polls = []  # monotonic times of /next requests
        self.answered = threading.Event()
        self.answer = None
        self.answered_at = None
        self.delivered_at = None
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path != PREFIX + "/invocation/next":
                    self.send_error(404)
                    return
                api.polls.append(time.monotonic())
                if len(api.polls) > 1:
                    api.answered.wait(30)
                    time.sleep(30)  # the process is killed meanwhile
                    return
                body = json.dumps(api.event).encode()
                self.send_response(200)
                self.send_header("Lambda-Runtime-Aws-Request-Id", str(uuid.uuid4()))
                self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 10_000))
                self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:eu-west-1:123456789012:function:bench")
                self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                api.delivered_at = time.monotonic()

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                payload = self.rfile.read(length)
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()
                api.answer = (self.path, payload)
                api.answered_at = time.monotonic()
                api.answered.set()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def address(self):
        host, port = self.server.server_address
        return f"{host}:{port}"

    def close(self):
        self.server.shutdown()


def peak_rss_kib(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_once(binary, event, env):
    api = RuntimeApi(event)
    env = dict(env, AWS_LAMBDA_RUNTIME_API=api.address)
    spawned = time.monotonic()
    process = subprocess.Popen([str(binary)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        if not api.answered.wait(20):
            raise RuntimeError(f"{binary.name}: no response ({process.stderr.read1(2000).decode(errors='replace') if process.poll() is not None else 'still running'})")
        deadline = time.monotonic() + 5
        while len(api.polls) < 2 and time.monotonic() < deadline:
            time.sleep(0.001)
        rss = peak_rss_kib(process.pid)
        path, payload = api.answer
        if not path.endswith("/response"):
            raise RuntimeError(f"{binary.name}: {path} {payload[:300]!r}")
        status = json.loads(payload).get("statusCode")
        return {
            "init_ms": (api.polls[0] - spawned) * 1000,
            "invoke_ms": (api.answered_at - api.delivered_at) * 1000,
            "rss_mib": rss / 1024,
            "status": status,
        }
    finally:
        process.kill()
        process.wait()
        api.close()


def ensure_table(endpoint, name):
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="eu-west-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
    if name in client.list_tables()["TableNames"]:
        return
    attrs = ["pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"]
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in attrs],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": f"gsi{i}",
                "KeySchema": [{"AttributeName": f"gsi{i}pk", "KeyType": "HASH"},
                              {"AttributeName": f"gsi{i}sk", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"},
            }
            for i in (1, 2)
        ],
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dynamodb", required=True, help="DynamoDB Local endpoint")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-build", action="store_true", help="use the release binaries already built")
    parser.add_argument("--profile", default="function",
                        help="cargo profile to build and measure (function, or function-quick)")
    parser.add_argument("functions", nargs="*", help="function names (default: every function)")
    args = parser.parse_args()

    names = args.functions or sorted(p.stem for p in (ROOT / "functions/src/bin").glob("*.rs"))
    if not args.no_build:
        # With the function binaries' own flags: an explicit --target keeps them off build
        # scripts and proc macros, as in the Lambda build.
        flags = subprocess.run(["bash", "scripts/tools/function-rustflags", args.profile], cwd=ROOT,
                               check=True, capture_output=True, text=True).stdout.strip()
        build_env = dict(os.environ)
        build_env[f"CARGO_TARGET_{HOST_TARGET.upper().replace('-', '_')}_RUSTFLAGS"] = flags
        command = ["cargo", "build", "--profile", args.profile, "--locked", "-p", "functions",
                   "--target", HOST_TARGET]
        for name in names:
            command += ["--bin", name]
        subprocess.run(command, cwd=ROOT, check=True, env=build_env)
    table = "coldstart"
    ensure_table(args.dynamodb, table)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_ENDPOINT_URL": args.dynamodb,
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "COMMERCE_TABLE": table,
        "COMMERCE_BUCKET": "coldstart",
        "COMMERCE_SECRET": "0" * 64,
        "RUST_LOG": "warn",
    }
    print(f"{'function':<32}{'init ms':>9}{'invoke ms':>11}{'peak RSS MiB':>14}{'binary MB':>11}  status")
    rows = []
    for name in names:
        binary = ROOT / "target" / HOST_TARGET / args.profile / name
        event = json.loads((ROOT / "events" / f"{name}.json").read_text())
        if event.get("rawPath", "").startswith("/store"):
            # A well-formed key that exists nowhere: the route looks it up in the table (a real
            # store call) and answers 401.
            event.setdefault("headers", {})["x-api-key"] = "pk_" + "C" * 32
        runs = [run_once(binary, event, env) for _ in range(args.runs)]
        init = statistics.median(r["init_ms"] for r in runs)
        invoke = statistics.median(r["invoke_ms"] for r in runs)
        rss = max(r["rss_mib"] for r in runs)
        size = binary.stat().st_size / 1_000_000
        print(f"{name:<32}{init:>9.1f}{invoke:>11.1f}{rss:>14.1f}{size:>11.1f}  {runs[0]['status']}", flush=True)
        rows.append((name, init, invoke, rss, size))
    if len(rows) > 1:
        for label, column, unit in (("init", 1, "ms"), ("first invoke", 2, "ms"),
                                    ("peak RSS", 3, "MiB"), ("binary", 4, "MB")):
            values = sorted(row[column] for row in rows)
            largest = max(rows, key=lambda row: row[column])
            print(f"{label}: median {statistics.median(values):.1f} {unit}, "
                  f"range {values[0]:.1f}-{values[-1]:.1f} {unit} (largest: {largest[0]})")


if __name__ == "__main__":
    main()
