"""Runs one step of action.yml as the Actions runner would: its `env` with the
`${{ ... }}` expressions it uses evaluated against the given inputs (or their
defaults), then its `run` script with bash. Prints the step's outputs as JSON.

usage: run_step.py ACTION_YML STEP_ID INPUTS_JSON
The environment of this process is the runner's (GITHUB_OUTPUT and the like).
"""
import json
import os
import re
import subprocess
import sys

import yaml

action_path, step_id, given = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
action = yaml.safe_load(open(action_path))
inputs = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
for name, value in given.items():
    if name not in inputs:
        sys.exit(f"action.yml has no input {name!r}")
    inputs[name] = value
for name, spec in action["inputs"].items():
    if spec.get("required") and not inputs[name]:
        sys.exit(f"the input {name!r} is required")


def evaluate(expr):
    expr = expr.strip()
    m = re.fullmatch(r"inputs\.([\w-]+)", expr)
    if m:
        return inputs[m.group(1)]
    m = re.fullmatch(r"inputs\.([\w-]+) == '([^']*)'", expr)
    if m:
        return "true" if inputs[m.group(1)] == m.group(2) else "false"
    m = re.fullmatch(r"steps\.install\.outputs\.bin", expr)
    if m:
        return os.environ["LAMBDA_SHIP_BIN"]
    if expr == "github.token":
        return os.environ.get("GITHUB_TOKEN", "")
    sys.exit(f"run_step.py cannot evaluate ${{{{ {expr} }}}}")


# Defaults may themselves be expressions (github-token: ${{ github.token }}).
for name, value in inputs.items():
    inputs[name] = re.sub(r"\$\{\{(.*?)\}\}", lambda m: evaluate(m.group(1)), value)

step = next(s for s in action["runs"]["steps"] if s.get("id") == step_id)
env = dict(os.environ)
for key, value in step.get("env", {}).items():
    env[key] = re.sub(r"\$\{\{(.*?)\}\}", lambda m: evaluate(m.group(1)), str(value))
output_file = env["GITHUB_OUTPUT"]
done = subprocess.run(["bash", "-e", "-c", step["run"]], env=env)
# The outputs the action declares, read from the step's GITHUB_OUTPUT.
text = open(output_file).read() if os.path.exists(output_file) else ""
values, lines = {}, iter(text.splitlines())
for line in lines:
    name, delimiter = line.split("<<", 1)
    values[name] = "\n".join(iter(lambda: next(lines), delimiter))
declared = {}
for name, spec in action["outputs"].items():
    m = re.fullmatch(r"\$\{\{ steps\.([\w-]+)\.outputs\.([\w-]+) \}\}", spec["value"])
    declared[name] = values.get(m.group(2)) if m and m.group(1) == step_id else None
print(json.dumps({"exit": done.returncode, "outputs": declared}))
