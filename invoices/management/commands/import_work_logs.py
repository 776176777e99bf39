from pathlib import Path

import tablib
from django.core.management.base import BaseCommand, CommandError

from invoices.resources import WorkLogFileResource


class Command(BaseCommand):
    help = "Imports work logs from a CSV or XLSX file: all rows or none; --dry-run shows what would change."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, file, dry_run, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        if path.suffix.lower() == ".xlsx":
            dataset = tablib.Dataset().load(path.read_bytes(), format="xlsx")
        else:
            raw = path.read_bytes()
            for encoding in ("utf-8-sig", "gb18030"):
                try:
                    text = raw.decode(encoding)
                    break
                except UnicodeDecodeError:
                    continue
            else:
                raise CommandError("The file is neither UTF-8 nor GB18030 text.")
            dataset = tablib.Dataset().load(text, format="csv")
        result = WorkLogFileResource().import_data(
            dataset,
            dry_run=dry_run,
            use_transactions=True,
            rollback_on_validation_errors=True,
            raise_errors=False,
        )
        problems = []
        for row_error in result.row_errors():
            number, errors = row_error
            problems += [f"row {number}: {error.error}" for error in errors]
        for row in result.invalid_rows:
            for field, messages in row.error_dict.items():
                problems.append(f"row {row.number}: {field}: {'; '.join(messages)}")
        if problems:
            for line in problems:
                self.stderr.write(line)
            raise CommandError(f"Nothing imported: {len(problems)} problem(s) in {file}.")
        totals = result.totals
        verb = "Would import" if dry_run else "Imported"
        self.stdout.write(
            f"{verb}: {totals.get('new', 0)} new, {totals.get('skip', 0)} unchanged, {len(dataset)} rows."
        )
