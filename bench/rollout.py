#!/usr/bin/env python3
"""Rollouts and rollbacks of N functions on the test bed (moto), side by side
with what users do instead:

  rollback:  lambda-ship rollback of N aliases (--to-version, no smoke test),
             against the AWS CLI's update-alias for each function one after the
             other (what a person types), and the same run 8 at a time with
             xargs -P 8 (the best hand-written script); runs alternating, medians.
  canary:    a deploy of N functions with --rollout canary:20:10m and an alarm
             gate; the alarm is set to ALARM once every alias is split. Timed
             from outside: from the alarm to every alias back on its version
             with no weights; from inside (the report): from the gate's
             failure to every alias back, and the API calls per minute.

Usage: bench/rollout.py [N] [RUNS]   (as root; starts the test bed; N default 20)
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import botocore.session

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N = int(sys.argv[1]) if len(sys.argv) > 1 else 20
RUNS = sys.argv[2] if len(sys.argv) > 2 else "5"
ENV = {
    "AWS_ENDPOINT_URL": "http://127.0.0.1:5050",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "LAMBDA_SHIP_REGISTRY": "127.0.0.1:5000",
    "LAMBDA_SHIP_PROGRESS": "plain",
    "DOCKER_HOST": "unix:///var/run/docker.sock",
}
os.environ.update(ENV)
ROLE = "arn:aws:iam::123456789012:role/lambda-ship-test-function"
OLD_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/previous:latest"


def client(service):
    return botocore.session.get_session().create_client(
        service, endpoint_url=ENV["AWS_ENDPOINT_URL"], region_name="us-east-1"
    )


lam, cw = client("lambda"), client("cloudwatch")


def released(prefix, versions):
    """N functions whose alias live serves version 1, with `versions` published."""
    names = [f"{prefix}-{uuid.uuid4().hex[:8]}" for _ in range(N)]
    for name in names:
        lam.create_function(
            FunctionName=name, PackageType="Image", Code={"ImageUri": OLD_IMAGE},
            Role=ROLE, Architectures=["x86_64"],
        )
        for v in range(versions):
            if v:
                lam.update_function_configuration(
                    FunctionName=name, Environment={"Variables": {"V": str(v)}}
                )
            lam.publish_version(FunctionName=name)
        lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    return names


def alias(name):
    a = lam.get_alias(FunctionName=name, Name="live")
    return a["FunctionVersion"], (a.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}


def timed(command):
    """Wall seconds of one run of a shell command, its output dropped."""
    started = time.monotonic()
    subprocess.run(command, shell=True, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - started


def bench_rollback():
    names = released("bench-rb", 2)
    for name in names:
        lam.update_alias(FunctionName=name, Name="live", FunctionVersion="2")
    bin_ = os.path.join(ROOT, "target/release/lambda-ship")
    ours = f"{bin_} rollback --alias live --to-version 1 --no-smoke --function {','.join(names)}"
    update = "aws lambda update-alias --name live --function-version 1 --function-name"
    loop = "sh -c 'for f in " + " ".join(names) + f"; do {update} $f >/dev/null; done'"
    xargs = f"sh -c 'echo {' '.join(names)} | xargs -n1 -P8 {update} >/dev/null'"
    print(f"\n## rollback of {N} aliases: lambda-ship vs the AWS CLI one by one, then 8 at a time")
    for label, other in (("one by one", loop), ("8 at a time", xargs)):
        mine, theirs = [], []
        for _ in range(int(RUNS)):
            mine.append(timed(ours))
            theirs.append(timed(other))
        a, b = statistics.median(mine), statistics.median(theirs)
        print(f"lambda-ship {a:.3f} s, the AWS CLI {label} {b:.3f} s: {a / b:.2f}x")
    assert all(alias(n)[0] == "1" for n in names)


def bench_canary():
    names = released("bench-canary", 1)
    alarm = f"bench-{uuid.uuid4().hex[:8]}"
    cw.put_metric_alarm(
        AlarmName=alarm, Namespace="AWS/Lambda", MetricName="Errors", Statistic="Sum",
        Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    cw.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="bench")
    report = tempfile.mktemp(suffix=".json")
    sha = uuid.uuid4().hex + uuid.uuid4().hex[:8]
    cmd = [
        os.path.join(ROOT, "target/release/lambda-ship"), "deploy", "--repository", "bench-rollout",
        "--sha", sha, "--context", os.path.join(ROOT, "tests/fixtures/function"),
        "--platforms", "linux/amd64", "--alias", "live", "--no-local-smoke",
        "--rollout", "canary:20:10m", "--rollback-alarm", alarm, "--max-error-rate", "50",
        "--report-json", report, "--function", ",".join(names),
    ]
    started = time.monotonic()
    run = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not all(alias(n) == ("1", {"2": 0.2}) for n in names):
        if run.poll() is not None:
            sys.exit(f"the deploy ended before the canary: exit {run.returncode}")
        time.sleep(0.2)
    split = time.monotonic()
    # Hold the canary a while, as in production, before the alarm fires.
    time.sleep(12)
    cw.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="bench")
    fired = time.monotonic()
    while not all(alias(n) == ("1", {}) for n in names):
        time.sleep(0.05)
    back = time.monotonic()
    run.wait()
    r = json.load(open(report))["rollout"]
    held = fired - split
    print(f"\n## canary of {N} functions rolled back by an alarm")
    print(f"deploy until every alias was split: {split - started:.1f} s")
    print(f"alarm set → every alias back, seen from outside: {back - fired:.2f} s "
          f"(the check interval is 5 s)")
    print(f"gate's failure → every alias back (report rollback_seconds): {r['rollback_seconds']:.2f} s")
    print(f"exit code {run.returncode}; outcome {r['outcome']}: {r['reason']}")
    c = r["calls"]
    total = r["events"][-1]["seconds"]
    print(f"calls: {c['lambda']} Lambda, {c['cloudwatch']} CloudWatch in {total:.1f} s "
          f"({c['per_minute']:.0f} a minute; CloudWatch {c['cloudwatch'] / total * 60:.0f} a minute "
          f"while {held:.0f} s of it was split)")


if __name__ == "__main__":
    subprocess.run([os.path.join(ROOT, "tests/testbed/up")], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    bench_rollback()
    bench_canary()
