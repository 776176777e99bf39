from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from billing.errors import BillingError
from invoices.resources import WorkLogFileResource, read_work_log_file


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
        result = WorkLogFileResource().import_data(
            dataset,
            dry_run=dry_run,
            use_transactions=True,
            rollback_on_validation_errors=True,
            raise_errors=False,
        )
        problems = [f"{error.error}" for error in result.base_errors]
        for number, errors in result.row_errors():
            problems += [f"row {number}: {error.error}" for error in errors]
        for row in result.invalid_rows:
            for field, messages in row.error_dict.items():
                problems.append(f"row {row.number}: {field}: {'; '.join(messages)}")
        if problems:
            for line in sorted(problems, key=_row_order):
                self.stderr.write(line)
            raise CommandError(f"Nothing imported: {len(problems)} problem(s) in {file}.")
        totals = result.totals
        verb = "Would import" if dry_run else "Imported"
        self.stdout.write(
            f"{verb}: {totals.get('new', 0)} new, {totals.get('skip', 0)} unchanged, {len(dataset)} rows."
        )


def _row_order(line: str) -> tuple[int, str]:
    number = line.removeprefix("row ").partition(":")[0]
    return (int(number) if number.isdigit() else 0, line)
