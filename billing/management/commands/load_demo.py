import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Creates the demo data and a demo administrator (idempotent); prints the logins."

    def handle(self, *args, **options):
        username = os.environ.get("DEMO_ADMIN_USERNAME", "admin")
        password = os.environ.get("DEMO_ADMIN_PASSWORD", "admin")
        users = get_user_model().objects
        if users.filter(username=username).exists():
            self.stdout.write(f"Demo administrator {username!r} already exists (password unchanged).")
        else:
            users.create_superuser(username=username, email=f"{username}@example.com", password=password)
            self.stdout.write(self.style.SUCCESS(f"Demo administrator created: {username} / {password}"))
        self.stdout.write("Log in at http://127.0.0.1:8000/admin/")
