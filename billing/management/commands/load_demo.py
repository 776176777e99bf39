import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from billing.apikeys import SCOPES, hash_key
from billing.models import ApiKey
from billing.roles import ROLES, sync_roles
from contracts import demo as contracts_demo
from invoices import demo as invoices_demo

# A fixed key so the README's curl calls work on every demo install; only made with DEBUG on.
DEMO_API_KEY = "ask_00000000d3e0_demo-key-for-local-use-only"


class Command(BaseCommand):
    help = "Creates the demo data, a demo administrator and a demo API key (idempotent); prints the logins."

    def handle(self, *args, **options):
        users = get_user_model().objects
        username = os.environ.get("DEMO_ADMIN_USERNAME", "admin")
        password = os.environ.get("DEMO_ADMIN_PASSWORD", "admin")
        if users.filter(username=username).exists():
            self.stdout.write(f"Demo administrator {username!r} already exists (password unchanged).")
        else:
            users.create_superuser(username=username, email=f"{username}@example.com", password=password)
            self.stdout.write(self.style.SUCCESS(f"Demo administrator created: {username} / {password}"))

        sync_roles()
        for role, (label, _permissions) in ROLES.items():
            user = users.filter(username=role).first()
            if user is None:
                user = users.create_user(username=role, email=f"{role}@example.com", password=f"{role}-demo")
                user.is_staff = True
                user.save()
                self.stdout.write(f"Demo {label}: {role} / {role}-demo")
            user.groups.set(Group.objects.filter(name=role))

        created = contracts_demo.load()
        self.stdout.write(f"Demo customers created: {', '.join(created) or 'none (already there)'}")
        work = invoices_demo.load_work()
        self.stdout.write(f"Demo work created: {', '.join(work) or 'none (already there)'}")

        if settings.DEBUG:
            _kind, prefix, _secret = DEMO_API_KEY.split("_", 2)
            ApiKey.objects.get_or_create(
                prefix=prefix,
                defaults={"name": "demo", "key_hash": hash_key(DEMO_API_KEY), "scopes": list(SCOPES)},
            )
            self.stdout.write(f"Demo API key (all scopes): {DEMO_API_KEY}")
        else:
            self.stdout.write("No demo API key: it is only made with DEBUG=true.")
        self.stdout.write(
            "Log in at http://127.0.0.1:8000/admin/ · API docs at http://127.0.0.1:8000/api/docs/"
        )
