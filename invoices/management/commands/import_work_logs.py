from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from billing.errors import BillingError
from invoices.resources import read_work_log_file, work_logs_import


class Command(BaseCommand):
    help = (
        "Imports work logs from a CSV (UTF-8 or GBK/GB18030) or XLSX file: all rows or none, every bad row "
        "reported with its number; --dry-run shows what would change."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, file, dry_run, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        try:
            with path.open("rb") as handle:
                dataset = read_work_log_file(handle, name=path.name, size=path.stat().st_size)
        except BillingError as error:
            raise CommandError(f"Nothing imported: {error}") from error
        imported = work_logs_import(dataset, dry_run=dry_run)
        if imported.problems:
            for number, problem in imported.problems:
                self.stderr.write(problem if number is None else f"row {number}: {problem}")
            raise CommandError(f"Nothing imported: {len(imported.problems)} problem(s) in {file}.")
        verb = "Would import" if dry_run else "Imported"
        self.stdout.write(
            f"{verb}: {imported.new} new, {imported.unchanged} unchanged, {imported.rows} rows."
        )
