"""render.yaml against the part of Render's blueprint schema we use, and against this repository."""

import re
import shlex
from pathlib import Path

import jsonschema
import pytest
import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent

ENV_VAR = {
    "oneOf": [
        {
            "type": "object",
            "required": ["key"],
            "additionalProperties": False,
            "properties": {
                "key": {"type": "string", "pattern": "^[A-Z_][A-Z0-9_]*$"},
                "value": {"type": "string"},
                "generateValue": {"const": True},
                "sync": {"const": False},
                "fromDatabase": {
                    "type": "object",
                    "required": ["name", "property"],
                    "additionalProperties": False,
                    "properties": {
                        "name": {"type": "string"},
                        "property": {
                            "enum": [
                                "connectionString",
                                "connectionPoolString",
                                "host",
                                "port",
                                "user",
                                "password",
                                "database",
                            ]
                        },
                    },
                },
                "fromService": {"type": "object"},
            },
            "oneOf": [
                {"required": ["value"]},
                {"required": ["generateValue"]},
                {"required": ["sync"]},
                {"required": ["fromDatabase"]},
                {"required": ["fromService"]},
            ],
        },
        {
            "type": "object",
            "required": ["fromGroup"],
            "additionalProperties": False,
            "properties": {"fromGroup": {"type": "string"}},
        },
    ]
}

SERVICE = {
    "type": "object",
    "required": ["type", "name", "runtime", "buildCommand", "startCommand"],
    "additionalProperties": False,
    "properties": {
        "type": {"enum": ["web", "worker", "cron", "pserv", "keyvalue"]},
        "name": {"type": "string", "minLength": 1},
        "runtime": {"const": "python"},
        "plan": {"type": "string"},
        "region": {"type": "string"},
        "buildCommand": {"type": "string", "minLength": 1},
        "startCommand": {"type": "string", "minLength": 1},
        "preDeployCommand": {"type": "string"},
        "healthCheckPath": {"type": "string", "pattern": "^/"},
        "schedule": {"type": "string", "pattern": r"^\S+ \S+ \S+ \S+ \S+$"},
        "autoDeploy": {"type": "boolean"},
        "envVars": {"type": "array", "items": ENV_VAR},
    },
    "allOf": [
        {"if": {"properties": {"type": {"const": "cron"}}}, "then": {"required": ["schedule"]}},
        {"if": {"properties": {"type": {"const": "web"}}}, "then": {"required": ["healthCheckPath"]}},
    ],
}

BLUEPRINT = {
    "type": "object",
    "required": ["services", "databases"],
    "additionalProperties": False,
    "properties": {
        "services": {"type": "array", "minItems": 1, "items": SERVICE},
        "envVarGroups": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "envVars"],
                "additionalProperties": False,
                "properties": {"name": {"type": "string"}, "envVars": {"type": "array", "items": ENV_VAR}},
            },
        },
        "databases": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "postgresMajorVersion"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string"},
                    "plan": {"type": "string"},
                    "postgresMajorVersion": {"type": "string", "pattern": "^[0-9]+$"},
                    "databaseName": {"type": "string"},
                    "user": {"type": "string"},
                    "region": {"type": "string"},
                    "ipAllowList": {"type": "array"},
                },
            },
        },
    },
}


@pytest.fixture(scope="module")
def blueprint() -> dict:
    return yaml.safe_load((ROOT / "render.yaml").read_text())


def _env_vars(blueprint: dict):
    for service in blueprint["services"]:
        yield from service.get("envVars", [])
    for group in blueprint.get("envVarGroups", []):
        yield from group["envVars"]


def _commands(blueprint: dict):
    for service in blueprint["services"]:
        for field in ("buildCommand", "startCommand", "preDeployCommand"):
            if field in service:
                for part in re.split(r"&&|;", service[field]):
                    if part.strip():
                        yield service["name"], shlex.split(part)


def test_blueprint_matches_the_schema_subset(blueprint):
    jsonschema.validate(blueprint, BLUEPRINT)


def test_every_reference_names_something_declared(blueprint):
    databases = {db["name"] for db in blueprint["databases"]}
    groups = {group["name"] for group in blueprint.get("envVarGroups", [])}
    for var in _env_vars(blueprint):
        if "fromDatabase" in var:
            assert var["fromDatabase"]["name"] in databases
        if "fromGroup" in var:
            assert var["fromGroup"] in groups


def test_commands_name_files_and_management_commands_that_exist(blueprint):
    management_commands = set(get_commands())
    for service, argv in _commands(blueprint):
        if argv[:2] == ["python", "manage.py"]:
            assert argv[2] in management_commands, f"{service}: no management command {argv[2]!r}"
        elif argv[0] == "pip":
            requirement_files = [argv[i + 1] for i, arg in enumerate(argv) if arg == "-r"]
            assert requirement_files, f"{service}: pip without a requirements file"
            for name in requirement_files:
                assert (ROOT / name).is_file(), f"{service}: {name} does not exist"
        elif argv[0] == "gunicorn":
            module, _, attribute = argv[1].partition(":")
            path = ROOT / (module.replace(".", "/") + ".py")
            assert path.is_file(), f"{service}: {path} does not exist"
            assert f"{attribute} =" in path.read_text()
        else:
            pytest.fail(f"{service}: unexpected command {argv[0]!r}")


def test_web_service_migrates_serves_on_port_and_is_health_checked(blueprint):
    web = next(s for s in blueprint["services"] if s["type"] == "web")
    assert "migrate" in web["buildCommand"] and "createcachetable" in web["buildCommand"]
    assert "collectstatic" in web["buildCommand"]
    assert "$PORT" in web["startCommand"] and "gthread" in web["startCommand"]
    assert web["healthCheckPath"] == "/healthz"
    assert any(s["type"] == "worker" and "db_worker" in s["startCommand"] for s in blueprint["services"])
    assert any(s["type"] == "cron" and "send_notifications" in s["startCommand"] for s in blueprint["services"])


def test_one_daily_cron_job_sends_the_check_in_reminders(blueprint):
    daily = [s for s in blueprint["services"] if s["type"] == "cron" and "send_checkin_reminders" in s["startCommand"]]
    assert len(daily) == 1
    minute, hour, day, month, weekday = daily[0]["schedule"].split()
    assert minute.isdigit() and hour.isdigit() and (day, month, weekday) == ("*", "*", "*")


def test_secrets_are_generated_or_entered_in_the_dashboard(blueprint):
    by_key = {var["key"]: var for var in _env_vars(blueprint) if "key" in var}
    assert by_key["DJANGO_SECRET_KEY"] == {"key": "DJANGO_SECRET_KEY", "generateValue": True}
    secrets = ("MPESA_CONSUMER_KEY", "MPESA_CONSUMER_SECRET", "MPESA_PASSKEY", "MPESA_SECURITY_CREDENTIAL")
    # The delivery-report token is a URL path segment: entered (URL-safe), not generated (base64 may hold "/").
    for key in (*secrets, "AT_API_KEY", "SMS_DELIVERY_TOKEN"):
        assert by_key[key].get("sync") is False, key
    assert by_key["SMS_ENV"]["value"] in ("sandbox", "production")
    assert by_key["DJANGO_SETTINGS_MODULE"]["value"] == "config.settings.prod"
