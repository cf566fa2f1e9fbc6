"""`make sam-local`, checked without Docker (docs/local.md).

- The env-vars file that `make sam-local` writes (`python -m infra.samlocal --env-only`,
  the same code path, against a real moto) names every function of template.yaml and every
  variable each one declares, with local values; the SAM CLI's own environment resolution
  (`sam_env_probe.py`) really hands those values to each function; and every variable the
  code reads (found in the source: `envreads.py`) is either provided or on the short list
  of variables that are absent in AWS too.
- `sam build` (once per test session, for this machine's architecture so its output can
  be imported here) has every function and the layer, the layer with its pinned
  dependencies and byte-compiled, and the layer plus the functions import in a clean
  interpreter that sees nothing but the built artefacts and the standard library.
- The deployed architecture (arm64), which this machine cannot import: the layer
  Makefile's pip arguments resolve every pin to a wheel Lambda arm64 can load.
"""

from __future__ import annotations

import fcntl
import json
import os
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from envreads import ROOT, Reads, file_reads

from infra.local.cfn import load_yaml
from infra.samlocal.__main__ import parse_args, sam_commands

TEMPLATE = ROOT / "template.yaml"
SAM = ROOT / ".venv-sam" / "bin" / "sam"
SAM_PYTHON = ROOT / ".venv-sam" / "bin" / "python"
LAYER_SOURCE = ROOT / "layers" / "core"

#: Set by `sam local` itself for every function (from `--region`), as Lambda does.
SET_BY_SAM = {"AWS_REGION", "AWS_DEFAULT_REGION"}
#: Read by the code but declared for no function in template.yaml: absent in AWS too, so
#: the code's default is the deployed behaviour and `sam local` reproduces it.
ABSENT_AS_IN_AWS = {
    "AWS_ENDPOINT_URL_DYNAMODB": "per-service override; unset, AWS_ENDPOINT_URL applies",
    "EVENT_SOURCE": "the EventBridge source; the default `portcullis` is the deployed one",
    "WEBHOOK_RETRY_DELAYS": "tests' short retry schedule; unset = the real schedule",
    "WEBHOOKS_ALLOW_LOCALHOST": "make dev only; a container's loopback is not the host's",
    "SSO_ENDPOINT_OVERRIDE": "make dev/tests only: named providers aimed at the local OIDC "
    "provider; never in a deployment (docs/sso.md)",
}
#: f-string names (`AWS_ENDPOINT_URL_{service}`): per-service overrides, unset on purpose.
ABSENT_PREFIXES = {"AWS_ENDPOINT_URL_"}
CONTAINER_ENDPOINT = re.compile(r"^http://host\.docker\.internal:\d+$")
MACHINE_ARCH = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}


# --- once per session, shared by the xdist workers ------------------------------------------


def _once(root: Path, name: str, produce: Callable[[Path], None]) -> Path:
    """`produce(dir)` runs once per session however many workers ask; the others wait on
    the lock and reuse the directory (a failure is recorded, so it is not retried)."""
    target = root / name
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done, failed = target / ".done", root / f"{name}.failed"
        if failed.exists():
            pytest.fail(failed.read_text())
        if not done.exists():
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            try:
                produce(target)
            except BaseException as error:
                failed.write_text(f"{name} failed in another test: {error}")
                raise
            done.touch()
    return target


@pytest.fixture(scope="session")
def shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.getbasetemp()
    # Under xdist every worker has its own basetemp inside one session directory.
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def _require(path: Path) -> None:
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make sam-venv` (a missing tool fails, not skips)")


def _run(command: list[str], cwd: Path, env: dict[str, str], timeout: float) -> str:
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise AssertionError(
            f"{' '.join(command[:4])}... exited {done.returncode}\n{done.stdout}\n{done.stderr}"
        )
    return done.stdout


def _write_env_file(target: Path) -> None:
    _run(
        [
            sys.executable,
            "-m",
            "infra.samlocal",
            "--env-only",
            "--no-bootstrap",
            "--data-dir",
            str(target),
            "--env-file",
            str(target / "env.json"),
            "--moto-host",
            "127.0.0.1",
            "--moto-port",
            "0",
            "--runtime-port",
            "0",
        ],
        ROOT,
        {**os.environ, "PYTHONPATH": str(ROOT)},
        180,
    )


def _build(target: Path) -> None:
    _require(SAM)
    arch = MACHINE_ARCH.get(platform.machine().lower())
    if arch is None:
        pytest.fail(f"no layer build for this machine ({platform.machine()})")
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "ARCH": arch}
    _run(
        [
            str(SAM),
            "build",
            "--template",
            str(TEMPLATE),
            "--build-dir",
            str(target / "build"),
            "--cache-dir",
            str(target / "cache"),
        ],
        ROOT,
        env,
        900,
    )


@pytest.fixture(scope="session")
def env_file(shared_root: Path) -> Path:
    return _once(shared_root, "samlocal-env", _write_env_file) / "env.json"


@pytest.fixture(scope="session")
def environments(env_file: Path) -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = json.loads(env_file.read_text())
    return data


@pytest.fixture(scope="session")
def build_dir(shared_root: Path) -> Path:
    return _once(shared_root, "samlocal-build", _build) / "build"


# --- the template as declared ---------------------------------------------------------------


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    data: dict[str, Any] = load_yaml(TEMPLATE)
    return data


@pytest.fixture(scope="module")
def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource.get("Properties") or {}
        for logical_id, resource in template["Resources"].items()
        if resource.get("Type") == "AWS::Serverless::Function"
    }


@pytest.fixture(scope="module")
def declared(template: dict[str, Any], functions: dict[str, dict[str, Any]]) -> dict[str, set[str]]:
    """Variables each function declares: Globals plus its own (what sam lets a file set)."""
    globals_ = template["Globals"]["Function"].get("Environment", {}).get("Variables", {})
    return {
        logical_id: set(globals_) | set((props.get("Environment") or {}).get("Variables") or {})
        for logical_id, props in functions.items()
    }


# --- the env-vars file ----------------------------------------------------------------------


def test_env_file_names_every_function_and_every_declared_variable(
    environments: dict[str, dict[str, str]], declared: dict[str, set[str]]
) -> None:
    assert set(environments) == set(declared)
    for logical_id, names in declared.items():
        assert set(environments[logical_id]) == names, logical_id


def test_env_file_points_every_function_at_moto_through_the_docker_host(
    environments: dict[str, dict[str, str]],
) -> None:
    for logical_id, values in environments.items():
        assert CONTAINER_ENDPOINT.match(values["AWS_ENDPOINT_URL"]), logical_id
        for name, value in values.items():
            # A container's loopback is itself: only the browser-facing URL may be local.
            if name != "PUBLIC_BASE_URL":
                assert "127.0.0.1" not in value and "localhost" not in value, (logical_id, name)
        assert values["PUBLIC_BASE_URL"] == "http://127.0.0.1:3000"
        assert values["TABLE_NAME"] and values["EVENT_BUS_NAME"], logical_id
        assert values["KMS_KEY_ID"].startswith("arn:aws:kms:"), logical_id
    endpoints = {values["AWS_ENDPOINT_URL"] for values in environments.values()}
    assert len(endpoints) == 1
    (endpoint,) = endpoints
    queue_urls = [
        value
        for values in environments.values()
        for name, value in values.items()
        if name.endswith("QUEUE_URL")
    ]
    assert queue_urls and all(url.startswith(endpoint + "/") for url in queue_urls)


def test_sam_local_hands_the_file_values_to_every_function(
    env_file: Path, environments: dict[str, dict[str, str]]
) -> None:
    """The SAM CLI's own resolution: it only lets a file set variables the template
    declares (which is why AWS_ENDPOINT_URL is declared as `!Ref AWS::NoValue`)."""
    _require(SAM_PYTHON)
    output = _run(
        [
            str(SAM_PYTHON),
            str(Path(__file__).with_name("sam_env_probe.py")),
            str(TEMPLATE),
            str(env_file),
        ],
        ROOT,
        {k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        180,
    )
    resolved: dict[str, dict[str, str]] = json.loads(output)
    assert set(resolved) == set(environments)
    for logical_id, values in environments.items():
        got = resolved[logical_id]
        assert {name: got.get(name) for name in values} == values, logical_id


def _all_code_reads() -> Reads:
    reads = Reads()
    for root in (LAYER_SOURCE / "portcullis", ROOT / "functions"):
        for path in sorted(root.rglob("*.py")):
            reads.add(file_reads(path))
    return reads


def test_every_variable_the_code_reads_is_provided_or_absent_in_aws_too(
    environments: dict[str, dict[str, str]],
) -> None:
    reads = _all_code_reads()
    provided = {name for values in environments.values() for name in values}
    missing = {
        name: sorted(files)
        for name, files in reads.names.items()
        if name not in provided and name not in SET_BY_SAM and name not in ABSENT_AS_IN_AWS
    }
    assert not missing, f"read by the code, not in the env-vars file: {missing}"
    assert set(reads.prefixes) <= ABSENT_PREFIXES, reads.prefixes
    # The allowlist stays true: each entry is still read, and still provided to nobody.
    assert set(ABSENT_AS_IN_AWS) <= set(reads.names)
    assert not set(ABSENT_AS_IN_AWS) & provided


def test_variables_a_function_reads_itself_reach_it(
    environments: dict[str, dict[str, str]], functions: dict[str, dict[str, Any]]
) -> None:
    """Per function: what its own files read (not the shared core, whose reads any
    function may import) is in its own entry of the file."""
    for logical_id, props in functions.items():
        code_dir = (ROOT / props["CodeUri"]).resolve()
        own = Reads()
        for path in code_dir.rglob("*.py"):
            own.add(file_reads(path))
        needed = set(own.names) - SET_BY_SAM - set(ABSENT_AS_IN_AWS)
        assert needed <= set(environments[logical_id]), (logical_id, needed)


# --- sam build ------------------------------------------------------------------------------


# One test for the whole build: a build takes tens of seconds, and under xdist every worker
# given a test that needs it would wait for it (the build itself runs once: `_once`).


def test_sam_build_output(
    build_dir: Path, env_file: Path, functions: dict[str, dict[str, Any]]
) -> None:
    """`sam build` without Docker: every function and the layer; the layer with the
    pinned dependencies, byte-compiled; all of it importable in a clean interpreter; and
    the SAM CLI takes `make sam-local`'s start command up to needing Docker."""
    _check_functions_and_layer(build_dir, functions)
    _check_layer_dependencies(build_dir)
    _check_clean_import(build_dir, functions)
    _check_start_command(build_dir, env_file)


def _check_start_command(build_dir: Path, env_file: Path) -> None:
    """Every option `make sam-local` passes is one the SAM CLI accepts (a bad one is a
    usage error, exit 2); with no container runtime it then stops at that (exit 1)."""
    _, start = sam_commands(parse_args(["--sam", str(SAM)]), env_file, "us-east-1")
    start[start.index("--template") + 1] = str(build_dir / "template.yaml")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "SAM_CLI_TELEMETRY": "0",
        "DOCKER_HOST": f"unix://{build_dir}/no-docker.sock",
    }
    done = subprocess.run(
        start, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "container runtime" in output, output


def _check_functions_and_layer(build_dir: Path, functions: dict[str, dict[str, Any]]) -> None:
    built = load_yaml(build_dir / "template.yaml")
    resources = built["Resources"]
    for logical_id, props in functions.items():
        assert resources[logical_id]["Properties"]["CodeUri"] == logical_id
        source = ROOT / props["CodeUri"]
        for path in source.rglob("*.py"):
            copied = build_dir / logical_id / path.relative_to(source)
            assert copied.read_bytes() == path.read_bytes(), copied
    assert resources["CoreLayer"]["Properties"]["ContentUri"] == "CoreLayer"
    assert (build_dir / "CoreLayer" / "python" / "portcullis" / "__init__.py").is_file()


def _pins() -> dict[str, str]:
    pins = {}
    for line in (LAYER_SOURCE / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[re.sub(r"\[.*\]", "", name).lower().replace("-", "_")] = version
    return pins


def _check_layer_dependencies(build_dir: Path) -> None:
    python = build_dir / "CoreLayer" / "python"
    installed = {
        match.group(1).lower(): match.group(2)
        for info in python.glob("*.dist-info")
        if (match := re.fullmatch(r"(.+)-([^-]+)\.dist-info", info.name))
    }
    for name, version in _pins().items():
        assert installed.get(name) == version, (name, installed.get(name), version)
    sources = [p for p in python.rglob("*.py") if "__pycache__" not in p.parts]
    assert len(sources) > 500
    tag = f"cpython-{sys.version_info.major}{sys.version_info.minor}"
    for source in sources:
        compiled = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
        header = compiled.read_bytes()[:8]
        # PEP 552 flags: 0b01 = hash-based, source not checked (layers/core/Makefile).
        assert int.from_bytes(header[4:8], "little") == 0b01, compiled
    for data in (LAYER_SOURCE / "portcullis").rglob("*"):
        if data.is_file() and data.suffix not in (".py", ".pyc"):
            relative = data.relative_to(LAYER_SOURCE)
            assert (python / relative).is_file(), f"{relative} is not in the layer"


IMPORT_CHECK = """
import importlib, importlib.util, json, pkgutil, sys
layer, functions = sys.argv[1], sys.argv[2:]
stdlib = tuple(p for p in sys.path if p)  # what -I -S leaves: the standard library only
assert not [p for p in stdlib if "site-packages" in p or "dist-packages" in p], sys.path
sys.path.insert(0, layer)
import portcullis
names = [m.name for m in pkgutil.walk_packages(portcullis.__path__, "portcullis.")]
for name in names:
    importlib.import_module(name)
for directory in functions:
    name = "fn_" + directory.rsplit("/", 1)[-1]
    spec = importlib.util.spec_from_file_location(name, directory + "/app.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    sys.path.insert(0, directory)
    spec.loader.exec_module(module)
    sys.path.remove(directory)
    assert callable(module.lambda_handler), directory
outside = sorted(
    getattr(m, "__file__", None) for m in list(sys.modules.values())
    if getattr(m, "__file__", None)
    and not m.__file__.startswith((layer, *stdlib, *functions))
)
assert not outside, outside
print(json.dumps({"modules": len(names), "functions": len(functions)}))
"""


def _check_clean_import(build_dir: Path, functions: dict[str, dict[str, Any]]) -> None:
    """`-I -S`: no site-packages, no PYTHONPATH, no user site, no current directory; only
    the built layer and function directories are added, as in the Lambda image."""
    layer = build_dir / "CoreLayer" / "python"
    function_dirs = [str(build_dir / logical_id) for logical_id in sorted(functions)]
    env = {"PATH": os.environ.get("PATH", ""), "AWS_REGION": "us-east-1", "LANG": "C.UTF-8"}
    output = _run(
        [sys.executable, "-I", "-S", "-c", IMPORT_CHECK, str(layer), *function_dirs],
        build_dir,
        env,
        300,
    )
    counts = json.loads(output)
    assert counts["functions"] == len(functions)
    assert counts["modules"] > 50


# --- the deployed architecture --------------------------------------------------------------

#: pip's platform name for each `Architectures` value of template.yaml.
LAMBDA_ARCH = {"arm64": "aarch64", "x86_64": "x86_64"}
#: Lambda's python3.11 runs on Amazon Linux 2: a native wheel must need glibc 2.26 or older.
LAMBDA_GLIBC = (2, 26)
MANYLINUX = re.compile(r"^manylinux(?:_(\d+)_(\d+)|(2014))_(\w+)$")


def test_deployed_architecture_resolves_to_wheels_for_it(
    template: dict[str, Any], tmp_path: Path
) -> None:
    """`sam build` in the tests builds for this machine (so the output can be imported
    here); the deployment builds for template.yaml's architecture (arm64). The layer
    Makefile's own pip arguments, resolved for that architecture, must find every pinned
    requirement as a wheel Lambda can load: pure Python, or native for that architecture
    on glibc <= 2.26. A pin without such a wheel would fail `sam build` or, worse, load
    an x86_64 library on an arm64 function."""
    (arch,) = template["Globals"]["Function"]["Architectures"]
    layer = template["Resources"]["CoreLayer"]
    assert layer["Metadata"]["BuildArchitecture"] == arch
    assert layer["Properties"]["CompatibleArchitectures"] == [arch]
    machine = LAMBDA_ARCH[arch]
    makefile = (LAYER_SOURCE / "Makefile").read_text()
    assert re.search(rf"^ARCH \?= {machine}$", makefile, re.M), "Makefile ARCH default"

    report = tmp_path / "report.json"
    done = subprocess.run(
        [
            *("make", "-s", "-C", str(LAYER_SOURCE), "resolve-CoreLayer"),
            *(f"PYTHON={sys.executable}", f"ARCH={machine}", f"REPORT={report}"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    picked = json.loads(report.read_text())["install"]

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name, parse_wheel_filename

    wheels = {}
    for item in picked:
        filename = item["download_info"]["url"].rsplit("/", 1)[-1]
        assert filename.endswith(".whl"), filename
        name, version, _, tags = parse_wheel_filename(filename)
        wheels[name] = str(version)
        platforms = {tag.platform for tag in tags}
        if platforms == {"any"}:
            continue
        loadable = []
        for plat in platforms:
            match = MANYLINUX.match(plat)
            assert match, f"{filename}: not a manylinux wheel"
            glibc = (2, 17) if match[3] else (int(match[1]), int(match[2]))
            loadable.append(match[4] == machine and glibc <= LAMBDA_GLIBC)
        assert any(loadable), f"{filename}: no tag Lambda {arch} (glibc 2.26) can load"

    pins = [
        Requirement(line)
        for line in (LAYER_SOURCE / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for pin in pins:
        (spec,) = pin.specifier
        assert wheels.get(canonicalize_name(pin.name)) == spec.version, pin
