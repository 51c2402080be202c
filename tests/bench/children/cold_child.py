"""One cold start, in a fresh interpreter: import a function's handler module (or, for the floor,
boto3 and one client), serve one event, and report the times.

Run as a script (``python cold_child.py KIND INPUTS OUT``) so nothing but this file runs before the
clock starts; it imports only the standard library before the measured work. Times reported:

- ``t_ready``: from the first line of this script to the handler's response;
- ``wall_done``: ``time.time()`` at the response, which the parent subtracts from the moment it
  spawned the process (spawn to first response, interpreter start-up included).
"""

import time

T0 = time.perf_counter()

import json  # noqa: E402
import sys  # noqa: E402


class Context:
    """The Lambda context attributes the handlers read."""

    def __init__(self, name: str) -> None:
        self.function_name = name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
        self.aws_request_id = "00000000-0000-0000-0000-000000000000"
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 15_000


def main() -> None:
    kind, inputs, out = sys.argv[1:4]
    with open(inputs, encoding="utf-8") as f:
        spec = json.load(f)[kind]
    handler = spec["handler"]
    if handler == "floor":
        import boto3

        client = boto3.client(spec["service"])
        imported = time.perf_counter()
        from botocore import xform_name

        response = getattr(client, xform_name(spec["operation"]))(**spec["params"])
        status = response["ResponseMetadata"]["HTTPStatusCode"]
        ok = status == 200
    elif handler == "api":
        import app

        imported = time.perf_counter()
        response = app.app(spec["event"], Context("ApiFunction"))
        status = response["statusCode"]
        ok = status == spec["expect"]
    elif handler == "stream":
        import handler as stream

        imported = time.perf_counter()
        response = stream.handler(spec["event"], Context("StreamFunction"))
        status = 200 if not response.get("batchItemFailures") else 500
        ok = status == 200
    else:
        raise SystemExit(f"unknown handler {handler}")
    done = time.perf_counter()
    wall_done = time.time()
    result = {
        "kind": kind,
        "t_import": imported - T0,
        "t_ready": done - T0,
        "wall_done": wall_done,
        "status": status,
        "ok": ok,
        "modules": len(sys.modules),
    }
    with open(out, "w", encoding="utf-8") as f:
        json.dump(result, f)


main()
