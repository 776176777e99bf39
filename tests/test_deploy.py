"""Production settings pass Django's deployment checks."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def production_env(**values) -> dict:
    """The environment of a production process: none of the test run's own switches (the browser tests
    set DJANGO_ALLOW_ASYNC_UNSAFE in this process)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_ALLOW_ASYNC_UNSAFE", "SECRET_KEY")}
    return {**env, "DJANGO_SETTINGS_MODULE": "billing.settings", "DEBUG": "false", **values}


def test_check_deploy_is_clean_under_production_settings():
    env = production_env(
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="billing.example.com",
        SITE_URL="https://billing.example.com",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_development_key_fails_the_deployment_checks():
    env = production_env()
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "security.W009" in result.stderr + result.stdout


def test_check_deploy_refuses_staff_without_a_second_factor_in_production():
    env = production_env(
        SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="billing.example.com", OTP_REQUIRED="false"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "billing.E001" in result.stderr + result.stdout


def test_check_deploy_warns_when_links_have_no_site_url():
    env = production_env(
        SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="billing.example.com", SITE_URL=""
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "billing.W002" in result.stderr + result.stdout
