from django.core.management.base import BaseCommand

from billing.roles import sync_roles


class Command(BaseCommand):
    help = "Creates the staff role groups (sales, sales manager, account manager, finance, administrator)."

    def handle(self, *args, **options):
        for role, count in sync_roles().items():
            self.stdout.write(f"{role}: {count} permissions")
