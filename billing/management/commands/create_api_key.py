import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from billing.apikeys import SCOPES, create_api_key
from billing.errors import BillingError


class Command(BaseCommand):
    help = "Issues an API key for a machine client and prints it; the key is not stored and not shown again."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="Who the key is for, e.g. the ticketing tool.")
        parser.add_argument(
            "--scopes",
            required=True,
            help=f"Comma-separated scopes, from: {', '.join(SCOPES)}. Empty: a key for /api/v1/me only.",
        )
        parser.add_argument("--expires-days", type=int, help="Days until the key expires; default: never.")

    def handle(self, *args, name, scopes, expires_days, **options):
        if expires_days is not None and expires_days <= 0:
            raise CommandError("--expires-days must be a positive number of days.")
        expires_at = timezone.now() + datetime.timedelta(days=expires_days) if expires_days else None
        try:
            api_key, raw_key = create_api_key(
                name=name,
                scopes=[scope.strip() for scope in scopes.split(",") if scope.strip()],
                expires_at=expires_at,
            )
        except BillingError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"API key {api_key} with scopes: {', '.join(api_key.scopes) or '(none)'}")
        self.stdout.write(raw_key)
        self.stdout.write(self.style.WARNING("This key will not be shown again: store it now."))
