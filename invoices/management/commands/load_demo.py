import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from billing.apikeys import SCOPES, hash_key, revoke_api_key
from billing.models import ApiKey
from billing.roles import ROLES, sync_roles
from contracts import demo as contracts_demo
from invoices import demo as invoices_demo

# A fixed key so the README's curl calls work on every demo install; only made with DEBUG on.
DEMO_API_KEY = "ask_00000000d3e0_demo-key-for-local-use-only"


class Command(BaseCommand):
    help = (
        "Creates the demo data, a demo administrator, one user per staff role and (with DEBUG on) a demo API "
        "key; idempotent; prints the logins. The known demo passwords (admin / admin, <role> / <role>-demo) "
        "are set only with DEBUG on or --known-passwords; otherwise each new user gets a random password, "
        "printed once."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--known-passwords",
            action="store_true",
            help="Set the known demo passwords even with DEBUG off (a demo server nobody else can reach).",
        )
        parser.add_argument(
            "--scale",
            type=int,
            default=0,
            metavar="N",
            help="Also add N customers (SCALE-nnnnnn, after the last) with five years of history: periods, "
            "work logs, travel with receipts, charges, issued invoices (monthly or quarterly, PDFs rendered "
            "on first download) and payments, quotes and charge requests in every state. Bulk-written in "
            "chunks through the services' own builders (period_fee_charge, work_log_rate_charge, "
            "travel_charge, "
            "invoice_line_of_charge, the invoice sequences); no history rows for bulk rows. This month's "
            "(or quarter's) work is left for the next invoice run.",
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="Seed of --scale (the same seed, the same data)."
        )
        parser.add_argument(
            "--monthly-share",
            type=float,
            default=None,
            metavar="F",
            help="Share of the --scale customers invoiced monthly, the others quarterly (default 0.3: about "
            "ten invoices per customer, 100,000 at 10,000 customers; 1 bills everyone monthly).",
        )

    def handle(self, *args, **options):
        known = settings.DEBUG or options["known_passwords"]
        if not known:
            self.stdout.write(
                "DEBUG is off: new demo users get random passwords, printed once below "
                "(--known-passwords sets the known ones)."
            )
        users = get_user_model().objects
        username = os.environ.get("DEMO_ADMIN_USERNAME", "admin")
        chosen = os.environ.get("DEMO_ADMIN_PASSWORD")
        admin = users.filter(username=username).first()
        if admin is None:
            password = self.admin_password(chosen=chosen, known=known, username=username)
            users.create_superuser(username=username, email=f"{username}@example.com", password=password)
            self.stdout.write(self.style.SUCCESS(f"Demo administrator created: {username} / {password}"))
        elif not self.forget_known_password(admin, "admin", known=known):
            self.stdout.write(f"Demo administrator {username!r} already exists (password unchanged).")

        sync_roles()
        for role, (label, _permissions) in ROLES.items():
            user = users.filter(username=role).first()
            if user is None:
                password = f"{role}-demo" if known else random_password()
                user = users.create_user(username=role, email=f"{role}@example.com", password=password)
                user.is_staff = True
                user.save()
                self.stdout.write(f"Demo {label}: {role} / {password}")
            else:
                self.forget_known_password(user, f"{role}-demo", known=known)
            user.groups.set(Group.objects.filter(name=role))

        created = contracts_demo.load()
        self.stdout.write(f"Demo customers created: {', '.join(created) or 'none (already there)'}")
        self.stdout.write(
            "Customer portal: open /portal/sign-in and enter it@demo-active.example.com; the one-time "
            "sign-in link appears in this console (the e-mail backend prints mails)."
        )
        work = invoices_demo.load_work()
        self.stdout.write(f"Demo work created: {', '.join(work) or 'none (already there)'}")

        if options["scale"] > 0:
            from invoices.scale_demo import MONTHLY_SHARE, load_scale

            share = MONTHLY_SHARE if options["monthly_share"] is None else options["monthly_share"]
            if not 0 <= share <= 1:
                raise CommandError("--monthly-share is a share between 0 and 1.")
            counts = load_scale(customers=options["scale"], seed=options["seed"], monthly_share=share)
            self.stdout.write("Scale data: " + ", ".join(f"{n} {what}" for what, n in counts.items()))

        if settings.DEBUG:
            _kind, prefix, _secret = DEMO_API_KEY.split("_", 2)
            ApiKey.objects.get_or_create(
                prefix=prefix,
                defaults={"name": "demo", "key_hash": hash_key(DEMO_API_KEY), "scopes": list(SCOPES)},
            )
            self.stdout.write(f"Demo API key (all scopes): {DEMO_API_KEY}")
        else:
            self.stdout.write("No demo API key: it is only made with DEBUG=true.")
            _kind, prefix, _secret = DEMO_API_KEY.split("_", 2)
            for api_key in ApiKey.objects.filter(prefix=prefix, revoked_at__isnull=True):
                revoke_api_key(api_key=api_key)
                self.stdout.write(self.style.WARNING("The demo API key an earlier load made is revoked."))
        self.stdout.write(
            "Log in at http://127.0.0.1:8000/admin/ · API docs at http://127.0.0.1:8000/api/docs/"
        )

    def admin_password(self, *, chosen: str | None, known: bool, username: str) -> str:
        """DEMO_ADMIN_PASSWORD when given (held to the password validators with DEBUG off), else the known
        ``admin`` or a random one."""
        if chosen is None:
            return "admin" if known else random_password()
        if not known:
            try:
                validate_password(chosen, user=get_user_model()(username=username))
            except ValidationError as error:
                raise CommandError(f"DEMO_ADMIN_PASSWORD is refused: {' '.join(error.messages)}") from error
        return chosen

    def forget_known_password(self, user, demo_password: str, *, known: bool) -> bool:
        """With known passwords not allowed, a user still holding its known demo password (from a load with
        DEBUG on) gets a random one, printed once; says whether it did."""
        if known or not user.check_password(demo_password):
            return False
        password = random_password()
        user.set_password(password)
        user.save(update_fields=["password"])
        self.stdout.write(self.style.WARNING(f"{user.username} had its known demo password; now: {password}"))
        return True


def random_password() -> str:
    return secrets.token_urlsafe(12)
