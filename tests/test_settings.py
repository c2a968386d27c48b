"""Settings come from the environment; production settings pass Django's deployment checks."""

import os
import re
import secrets
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    """Settings and system checks in a fresh process; they read no date, so it needs no clock offset."""
    prefixes = ("DJANGO_", "MPESA_", "RENDER_", "ALLOWED_", "SMS_", "AT_", "MEDIA_", "SITE_")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True)


def _prod_env(**extra: str) -> dict:
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DATABASE_URL": "postgres://nexus@127.0.0.1:5432/nexus",
        "ALLOWED_HOSTS": "nexus.example",
        "MPESA_ENV": "sandbox",
        **LIVE_MPESA,
        "SMS_ENV": "sandbox",
        **LIVE_SMS,
        "MEDIA_PERSISTENT_DISK": "1",
        **extra,
    }


# What payments against Daraja need (throwaway values): without any of them check --deploy warns.
LIVE_MPESA = {
    "MPESA_CONSUMER_KEY": "throwaway-key",
    "MPESA_CONSUMER_SECRET": "throwaway-secret",
    "MPESA_PASSKEY": "throwaway-passkey",
    "MPESA_SHORTCODE": "174379",
    "MPESA_CALLBACK_BASE_URL": "https://nexus.example",
    "MPESA_CALLBACK_ALLOWED_IPS": "196.201.214.200,196.201.214.206",
}
# The warning each one's absence raises.
LIVE_MPESA_WARNINGS = {
    "MPESA_CALLBACK_ALLOWED_IPS": "mpesa.W002",
    "MPESA_CONSUMER_KEY": "mpesa.W003",
    "MPESA_CONSUMER_SECRET": "mpesa.W003",
    "MPESA_PASSKEY": "mpesa.W004",
    "MPESA_CALLBACK_BASE_URL": "mpesa.W005",
}


# What SMS against Africa's Talking needs (throwaway values): without any of them check --deploy warns.
LIVE_SMS = {
    "AT_USERNAME": "nexus",
    "AT_API_KEY": "throwaway-at-key",
    "SMS_DELIVERY_TOKEN": "throwaway-delivery-token-0123456789",
}
# The warning each one's absence raises, and in which environments.
LIVE_SMS_WARNINGS = {
    "AT_API_KEY": ("notifications.W002", {"sandbox", "production"}),
    "AT_USERNAME": ("notifications.W003", {"production"}),  # the sandbox's username is "sandbox"
    "SMS_DELIVERY_TOKEN": ("notifications.W004", {"sandbox", "production"}),
}


def test_check_deploy_with_production_settings_prints_no_warning():
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **_prod_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = _prod_env()
    del env["DJANGO_SECRET_KEY"]
    result = _run(["manage.py", "check"], **env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_render_hostname_is_allowed_and_trusted_for_csrf():
    script = "from django.conf import settings; print(settings.ALLOWED_HOSTS, settings.CSRF_TRUSTED_ORIGINS)"
    result = _run(
        ["-c", f"import django; django.setup(); {script}"],
        **_prod_env(RENDER_EXTERNAL_HOSTNAME="nexus-web.onrender.com"),
    )
    assert "'nexus-web.onrender.com'" in result.stdout, result.stderr
    assert "'https://nexus-web.onrender.com'" in result.stdout


def test_local_runs_default_to_sqlite_debug_and_the_emulator():
    script = (
        "from django.conf import settings; d = settings.DATABASES['default'];"
        "print(d['ENGINE'], settings.DEBUG, settings.MPESA_ENV, settings.TIME_ZONE, settings.USE_TZ,"
        " settings.CACHES['default']['BACKEND'], settings.TASKS['default']['BACKEND'])"
    )
    env = {"DJANGO_SETTINGS_MODULE": "config.settings.dev", "DATABASE_URL": ""}
    result = _run(["-c", f"import django; django.setup(); {script}"], **env)
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "True",
        "emulator",
        "Africa/Nairobi",
        "True",
        "django.core.cache.backends.db.DatabaseCache",
        "django.tasks.backends.immediate.ImmediateBackend",
    ], result.stderr


def test_production_queues_side_effects_in_the_database():
    script = "from django.conf import settings; print(settings.TASKS['default']['BACKEND'])"
    result = _run(["-c", f"import django; django.setup(); {script}"], **_prod_env())
    assert result.stdout.strip() == "django_tasks_db.DatabaseBackend", result.stderr


def test_no_secret_is_committed():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    assert ".env" not in tracked and "db.sqlite3" not in tracked
    private_key_header = "-----BEGIN " + "PRIVATE KEY-----"
    for name in tracked:
        path = ROOT / name
        if path.is_file() and path.suffix in {".py", ".yaml", ".yml", ".toml", ".txt", ".md", ".json", ".js", ".html"}:
            assert private_key_header not in path.read_text(errors="ignore"), name
    # Secret settings are read from the environment, never written down.
    settings_source = "\n".join((ROOT / "config" / "settings" / f"{n}.py").read_text() for n in ("base", "dev", "prod"))
    mpesa_secrets = ("MPESA_CONSUMER_SECRET", "MPESA_PASSKEY", "MPESA_SECURITY_CREDENTIAL")
    for secret in (*mpesa_secrets, "DJANGO_SECRET_KEY", "AT_API_KEY"):
        assignments = [
            line for line in settings_source.splitlines() if line.startswith(f"{secret.removeprefix('DJANGO_')} =")
        ]
        assert assignments and all(f'env_str("{secret}")' in line for line in assignments), assignments


def test_production_requires_an_explicit_mpesa_environment():
    env = _prod_env()
    del env["MPESA_ENV"]
    result = _run(["manage.py", "check", "--deploy"], **env)
    assert result.returncode != 0
    assert "mpesa.E002" in result.stderr


def test_a_deployed_emulator_is_a_deployment_warning_and_a_banner():
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **_prod_env(MPESA_ENV="emulator"))
    assert result.returncode != 0
    assert "mpesa.W001" in result.stderr + result.stdout
    script = "from core.context_processors import site; print(site(None)['DEMO_PAYMENTS'])"
    shown = _run(["-c", f"import django; django.setup(); {script}"], **_prod_env(MPESA_ENV="emulator"))
    assert shown.stdout.strip() == "True", shown.stderr
    hidden = _run(["-c", f"import django; django.setup(); {script}"], **_prod_env(MPESA_ENV="sandbox"))
    assert hidden.stdout.strip() == "False", hidden.stderr


def test_the_demo_banner_shows_on_every_page_when_demo_payments_are_on(client, db, settings):
    settings.DEBUG = False
    settings.MPESA_ENV = "emulator"
    for url in ("/", "/accounts/login/", "/no-such-page/"):
        assert "Demo payments — no real money moves" in unescape(client.get(url).content.decode())
    settings.MPESA_ENV = "sandbox"
    assert "Demo payments" not in client.get("/").content.decode()


def test_daraja_routes_exist_only_with_the_emulator():
    script = (
        "from django.urls import resolve, Resolver404\n"
        "try:\n    resolve('/daraja/phone/'); print('present')\n"
        "except Resolver404:\n    print('absent')"
    )
    for env, expected in (("emulator", "present"), ("sandbox", "absent"), ("production", "absent")):
        result = _run(["-c", f"import django; django.setup()\n{script}"], **_prod_env(MPESA_ENV=env))
        assert result.stdout.strip() == expected, (env, result.stderr)


@pytest.mark.parametrize("env", ["sandbox", "production"])
def test_check_deploy_reports_each_missing_daraja_setting(env):
    nothing = {name: "" for name in LIVE_MPESA}
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **_prod_env(MPESA_ENV=env, **nothing))
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    expected = {"mpesa.W002", "mpesa.W003", "mpesa.W004", "mpesa.W005"} | (
        {"mpesa.W006"} if env == "production" else set()
    )
    assert expected == set(re.findall(r"mpesa\.W00[2-9]", output)), output
    for name in ["MPESA_CALLBACK_ALLOWED_IPS", "MPESA_CONSUMER_KEY", "MPESA_PASSKEY", "MPESA_CALLBACK_BASE_URL"]:
        assert f"Set {name}" in output, name


def _mpesa_warnings() -> set[str]:
    from django.core.checks import run_checks

    return {message.id for message in run_checks(include_deployment_checks=True) if message.id.startswith("mpesa.W")}


@pytest.mark.parametrize("env", ["sandbox", "production"])
@pytest.mark.parametrize("name", sorted(LIVE_MPESA_WARNINGS))
def test_each_missing_daraja_setting_is_its_own_deploy_warning(settings, env, name):
    settings.MPESA_ENV = env
    for setting, value in LIVE_MPESA.items():
        setattr(settings, setting, value.split(",") if setting == "MPESA_CALLBACK_ALLOWED_IPS" else value)
    assert _mpesa_warnings() == set()
    setattr(settings, name, [] if name == "MPESA_CALLBACK_ALLOWED_IPS" else "")
    assert _mpesa_warnings() == {LIVE_MPESA_WARNINGS[name]}


@pytest.mark.parametrize(
    "base_url",
    [
        "http://nexus.example",
        "https://localhost:8000",
        "https://app.localhost",
        "https://127.0.0.1",
        "https://10.0.0.5",
        "https://192.168.1.20:8443",
        "https://[::1]",
        "https://nexus-web",
        "https://nexus.example:notaport",
        "nexus.example",
    ],
)
def test_a_callback_base_url_m_pesa_cannot_reach_is_a_deploy_warning(settings, base_url):
    settings.MPESA_ENV = "production"
    for setting, value in LIVE_MPESA.items():
        setattr(settings, setting, value.split(",") if setting == "MPESA_CALLBACK_ALLOWED_IPS" else value)
    settings.MPESA_CALLBACK_BASE_URL = base_url
    assert _mpesa_warnings() == {"mpesa.W005"}
    settings.MPESA_CALLBACK_BASE_URL = "https://nexus-web.onrender.com"
    assert _mpesa_warnings() == set()


def test_the_emulator_needs_none_of_them(settings):
    settings.MPESA_ENV = "emulator"
    settings.MPESA_CALLBACK_ALLOWED_IPS = []
    settings.MPESA_CONSUMER_KEY = settings.MPESA_PASSKEY = settings.MPESA_CALLBACK_BASE_URL = ""
    assert _mpesa_warnings() == {"mpesa.W001"}


# -- SMS (Africa's Talking) ---------------------------------------------------------------------------------------


def test_production_requires_an_explicit_sms_environment():
    env = _prod_env()
    del env["SMS_ENV"]
    result = _run(["manage.py", "check", "--deploy"], **env)
    assert result.returncode != 0
    assert "notifications.E002" in result.stderr


def test_an_unknown_sms_environment_is_an_error():
    result = _run(["manage.py", "check"], **_prod_env(SMS_ENV="carrier-pigeon"))
    assert result.returncode != 0 and "notifications.E001" in result.stderr


def test_a_deployed_sms_emulator_is_a_deployment_warning():
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **_prod_env(SMS_ENV="emulator"))
    assert result.returncode != 0
    assert "notifications.W001" in result.stderr + result.stdout


@pytest.mark.parametrize("env", ["sandbox", "production"])
def test_check_deploy_reports_each_missing_sms_setting(env):
    nothing = {name: "" for name in LIVE_SMS}
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **_prod_env(SMS_ENV=env, **nothing))
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    expected = {code for code, environments in LIVE_SMS_WARNINGS.values() if env in environments}
    assert expected == set(re.findall(r"notifications\.W00[2-9]", output)), output
    for name, (_, environments) in LIVE_SMS_WARNINGS.items():
        if env in environments:
            assert f"Set {name}" in output, name


def _sms_warnings() -> set[str]:
    from django.core.checks import run_checks

    return {m.id for m in run_checks(include_deployment_checks=True) if m.id.startswith("notifications.W")}


@pytest.mark.parametrize("env", ["sandbox", "production"])
@pytest.mark.parametrize("name", sorted(LIVE_SMS_WARNINGS))
def test_each_missing_sms_setting_is_its_own_deploy_warning(settings, env, name):
    settings.SMS_ENV = env
    for setting, value in LIVE_SMS.items():
        setattr(settings, setting, value)
    assert _sms_warnings() == set()
    setattr(settings, name, "")
    code, environments = LIVE_SMS_WARNINGS[name]
    assert _sms_warnings() == ({code} if env in environments else set())


UNUSABLE_TOKENS = ["short-token", "a/b+c=d-long-enough-but-base64-with-a-slash", "tab\tthere-0123456789"]


@pytest.mark.parametrize("token", UNUSABLE_TOKENS)
def test_a_guessable_or_unusable_delivery_token_is_a_deploy_warning(settings, token):
    settings.SMS_ENV = "production"
    for setting, value in LIVE_SMS.items():
        setattr(settings, setting, value)
    settings.SMS_DELIVERY_TOKEN = token
    assert _sms_warnings() == {"notifications.W004"}


def test_africastalking_routes_exist_only_with_the_emulator():
    script = (
        "from django.urls import resolve, Resolver404\n"
        "try:\n    resolve('/africastalking/version1/messaging'); print('present')\n"
        "except Resolver404:\n    print('absent')"
    )
    for env, expected in (("emulator", "present"), ("sandbox", "absent"), ("production", "absent")):
        result = _run(["-c", f"import django; django.setup()\n{script}"], **_prod_env(SMS_ENV=env))
        assert result.stdout.strip() == expected, (env, result.stderr)


def test_local_runs_and_tests_send_sms_to_the_emulator():
    script = "from django.conf import settings; print(settings.SMS_ENV, bool(settings.SMS_DELIVERY_TOKEN))"
    for module in ("config.settings.dev", "config.settings.test"):
        result = _run(["-c", f"import django; django.setup(); {script}"], DJANGO_SETTINGS_MODULE=module)
        assert result.stdout.split() == ["emulator", "True"], (module, result.stderr)


# -- Photos ---------------------------------------------------------------------------------------------------------

BUCKET = {
    "MEDIA_S3_BUCKET": "nexus-photos",
    "MEDIA_S3_ENDPOINT_URL": "https://account.r2.cloudflarestorage.com",
    "MEDIA_S3_ACCESS_KEY_ID": "throwaway-key-id",
    "MEDIA_S3_SECRET_ACCESS_KEY": "throwaway-secret",
    "MEDIA_S3_PUBLIC_URL": "https://photos.nexus.example",
}


def test_photos_on_neither_a_bucket_nor_a_declared_disk_are_a_deploy_warning():
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **_prod_env(MEDIA_PERSISTENT_DISK=""))
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "core.W001" in output, output
    assert "MEDIA_S3_BUCKET" in output and "MEDIA_PERSISTENT_DISK=1" in output
    for choice in ({"MEDIA_PERSISTENT_DISK": "1"}, {"MEDIA_PERSISTENT_DISK": "", **BUCKET}):
        result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **_prod_env(**choice))
        assert result.returncode == 0, (choice, result.stdout + result.stderr)


def test_ci_deploy_check_declares_where_photos_go():
    ci = (ROOT / ".ci" / "run").read_text()
    deploy_step = ci[ci.index('step "deployment checks') : ci.index("manage.py check --deploy")]
    assert "MEDIA_PERSISTENT_DISK=1" in deploy_step or "MEDIA_S3_BUCKET=" in deploy_step


def test_a_bucket_stores_photos_at_stable_public_urls_its_origin_allowed_by_the_csp():
    script = (
        "from django.conf import settings; from django.core.files.storage import storages;"
        "s = storages['default']; print(type(s).__name__, s.url('listings/2026/12/a.jpg'));"
        "print(settings.SECURE_CSP['img-src'])"
    )
    result = _run(["-c", f"import django; django.setup(); {script}"], **_prod_env(**BUCKET))
    lines = result.stdout.splitlines()
    assert lines[0] == "S3Storage https://photos.nexus.example/listings/2026/12/a.jpg", result.stderr
    assert "'https://photos.nexus.example'" in lines[1]
    without = _run(["-c", f"import django; django.setup(); {script}"], **_prod_env())
    assert without.stdout.splitlines()[0] == "FileSystemStorage /media/listings/2026/12/a.jpg", without.stderr
    assert "photos.nexus.example" not in without.stdout


def test_a_bucket_without_a_public_url_refuses_to_start():
    result = _run(["manage.py", "check"], **_prod_env(**{**BUCKET, "MEDIA_S3_PUBLIC_URL": ""}))
    assert result.returncode != 0 and "MEDIA_S3_PUBLIC_URL must be" in result.stderr


def test_production_keeps_connections_and_checks_them_before_each_request_without_a_query():
    script = (
        "from django.conf import settings; d = settings.DATABASES['default'];"
        "print(d['ENGINE'], d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])"
    )
    result = _run(["-c", f"import django; django.setup(); {script}"], **_prod_env())
    assert result.stdout.split() == ["core.db.postgresql", "600", "True"], result.stderr
    by_query = _run(["-c", f"import django; django.setup(); {script}"], **_prod_env(DJANGO_CONN_CHECK_BY_QUERY="1"))
    assert by_query.stdout.split() == ["django.db.backends.postgresql", "600", "True"], by_query.stderr
    off = _run(["-c", f"import django; django.setup(); {script}"], **_prod_env(DJANGO_CONN_HEALTH_CHECKS="0"))
    assert off.stdout.split() == ["core.db.postgresql", "600", "False"], off.stderr
