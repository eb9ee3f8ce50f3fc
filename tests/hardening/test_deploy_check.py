"""`manage.py check --deploy --fail-level WARNING` passes with production settings (CI runs
the same command in .ci/run)."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "example.com",
    "SITE_URL": "https://example.com",
    "STRIPE_SECRET_KEY": "sk_test_deploycheck",
    "STRIPE_WEBHOOK_SECRET": "whsec_deploycheck",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def deploy_check(**overrides):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECURE_", "MFA_", "TRUST_X"))}
    env.update(PRODUCTION_ENV, **overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_deploy_check_passes_with_production_settings():
    result = deploy_check()

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_deploy_check_would_catch_hsts_turned_off():
    result = deploy_check(SECURE_HSTS_SECONDS="0")

    assert result.returncode != 0
    assert "security.W004" in result.stdout + result.stderr
