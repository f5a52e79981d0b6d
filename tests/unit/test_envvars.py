from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from pydantic_core import PydanticSerializationError

from sparkjobs import envvars
from sparkjobs.envvars import Binding, EnvVar, merge_env


def _enc(text: str) -> str:  # a stand-in cipher: reversible, and visibly not the plaintext
    return "enc:" + text[::-1]


def _dec(token: str) -> str:
    assert token.startswith("enc:")
    return token[4:][::-1]


@pytest.mark.parametrize("name", ["A", "_", "PATH", "db_password_2", "_X9"])
def test_valid_env_names(name: str) -> None:
    assert EnvVar(name=name, value="v").name == name


@pytest.mark.parametrize("name", ["", "1ABC", "A-B", "A B", "A=B", "ÄB", "A\n", "$(x)", "a.b"])
def test_invalid_env_names(name: str) -> None:
    with pytest.raises(ValidationError, match="not a valid variable name"):
        EnvVar(name=name, value="v")


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"value": "a", "secret": "b"},
        {"value": "a", "secret_ciphertext": "c"},
        {"secret": "b", "secret_ciphertext": "c"},
    ],
)
def test_exactly_one_of_value_or_secret(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        EnvVar(name="X", **fields)


def test_empty_value_is_a_value() -> None:
    assert EnvVar(name="X", value="").value == ""


def test_unknown_fields_refused() -> None:
    with pytest.raises(ValidationError):
        EnvVar.model_validate({"name": "X", "value": "a", "valueFrom": "b"})


def test_secret_never_shows_in_repr_or_json() -> None:
    var = EnvVar(name="PW", secret="hunter2")
    assert "hunter2" not in repr(var) and "hunter2" not in str(var)
    with pytest.raises(PydanticSerializationError, match="seal"):
        var.model_dump_json()  # an unsealed secret can never be written out


def test_seal_mask_resolve_round_trip() -> None:
    inbound = [EnvVar(name="HOST", value="db"), EnvVar(name="PW", secret="hunter2")]
    stored = envvars.seal(inbound, _enc)
    stored_json = [v.model_dump_json(exclude_none=True) for v in stored]
    assert stored_json[1] == '{"name":"PW","secret_ciphertext":"enc:2retnuh"}'
    assert "hunter2" not in "".join(stored_json)
    reloaded = [EnvVar.model_validate_json(j) for j in stored_json]
    assert [v.model_dump(exclude_none=True) for v in envvars.masked(reloaded)] == [
        {"name": "HOST", "value": "db"},
        {"name": "PW", "secret": "set"},
    ]
    plain, secrets = envvars.resolve(reloaded, _dec)
    assert plain == {"HOST": "db", "PW": "hunter2"}
    assert secrets == ("hunter2",)


def test_resolve_accepts_an_unsealed_secret() -> None:
    plain, secrets = envvars.resolve([EnvVar(name="T", secret="tok")], _dec)
    assert plain == {"T": "tok"} and secrets == ("tok",)


def test_seal_keeps_sealed_and_plain_vars() -> None:
    sealed = EnvVar(name="A", secret_ciphertext="enc:x")
    plain = EnvVar(name="B", value="b")
    assert envvars.seal([sealed, plain], _enc) == [sealed, plain]


def _binding(name: str, **env: str) -> Binding:
    return Binding(name=name, env=[EnvVar(name=k, value=v) for k, v in env.items()])


def test_merge_job_env_wins_and_later_binding_beats_earlier() -> None:
    cache = _binding("cache", HOST="cache.svc", PORT="6379", SHARED="from-cache")
    db = _binding("db", HOST="db.svc", DB="app", SHARED="from-db")
    job_env = [EnvVar(name="HOST", value="mine"), EnvVar(name="OWN", value="1")]
    merged, origins = merge_env(job_env, [cache, db])
    assert {v.name: v.value for v in merged} == {
        "HOST": "mine",
        "PORT": "6379",
        "SHARED": "from-db",
        "DB": "app",
        "OWN": "1",
    }
    by_name = {o.name: o for o in origins}
    assert by_name["HOST"].binding is None and by_name["HOST"].shadowed == ("cache", "db")
    assert by_name["PORT"].binding == "cache"
    assert by_name["SHARED"].binding == "db" and by_name["SHARED"].shadowed == ("cache",)
    assert by_name["OWN"].binding is None and by_name["OWN"].shadowed == ()
    assert by_name["HOST"].describe() == "HOST from the job (overrides binding 'cache', 'db')"
    assert by_name["PORT"].describe() == "PORT from binding 'cache'"


def test_merge_descriptions_never_hold_values() -> None:
    binding = Binding(name="s", env=[EnvVar(name="PW", secret="hunter2")])
    merged, origins = merge_env([EnvVar(name="X", value="visible-value")], [binding])
    text = " ".join(o.describe() for o in origins)
    assert "hunter2" not in text and "visible-value" not in text
    assert merged[0].secret is not None


def test_merge_empty() -> None:
    assert merge_env([], []) == ([], [])


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"name": "Cache"}, "DNS-1123"),
        ({"name": "-cache"}, "DNS-1123"),
        ({"name": "a" * 64}, "DNS-1123"),
        (
            {"name": "c", "env": [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]},
            "more than once",
        ),
        ({"name": "c", "env": [{"name": "1A", "value": "1"}]}, "variable name"),
        ({"name": "c", "service": {"name": "Bad_Name"}}, "pattern"),
        ({"name": "c", "service": {"name": "redis", "port": 70000}}, "less than or equal"),
        ({"name": "c", "secret_ref": {"name": "has space"}}, "pattern"),
        ({"name": "c", "config_map_ref": {"name": "a..b"}}, "pattern"),
        ({"name": "c", "extra": 1}, "Extra inputs"),
    ],
)
def test_invalid_bindings(data: dict[str, Any], error: str) -> None:
    with pytest.raises(ValidationError, match=error):
        Binding.model_validate(data)


def test_kubernetes_binding() -> None:
    binding = Binding.model_validate(
        {
            "name": "cache",
            "description": "the shared Redis",
            "env": [{"name": "CACHE_PASSWORD", "secret": "pw"}],
            "service": {"name": "redis", "namespace": "infra", "port": 6379},
            "secret_ref": {"name": "redis-auth"},
            "config_map_ref": {"name": "redis.config"},
        }
    )
    assert binding.service is not None and binding.service.port == 6379
    assert binding.config_map_ref is not None and binding.config_map_ref.name == "redis.config"
