from django.core.management.base import BaseCommand

from catalog.services import load_catalog


class Command(BaseCommand):
    help = "Loads the vendor's service catalogue, tiers, calendars and example rate card (idempotent)."

    def handle(self, *args, **options):
        report = load_catalog()
        for name, count in sorted(report.created.items()):
            self.stdout.write(f"  created {count} {name}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Catalogue loaded: {report.total_created} rows created, "
                f"{sum(report.unchanged.values())} already there and left unchanged."
            )
        )
