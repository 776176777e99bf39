import datetime
from pathlib import Path

from django.core.management.base import BaseCommand

from invoices.exports import dataset_bytes, invoices_dataset, issued, lines_dataset


class Command(BaseCommand):
    help = "Exports issued invoices and credit notes (and their lines) for the accounting system."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", type=datetime.date.fromisoformat, required=True)
        parser.add_argument("--to", dest="end", type=datetime.date.fromisoformat, required=True)
        parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
        parser.add_argument(
            "--out", default=".", help="folder for invoices.<format> and invoice-lines.<format>"
        )

    def handle(self, *args, start, end, format, out, **options):
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        for name, dataset in (
            ("invoices", invoices_dataset(issued(start, end))),
            ("invoice-lines", lines_dataset(issued(start, end))),
        ):
            path = folder / f"{name}.{format}"
            path.write_bytes(dataset_bytes(dataset, format))
            self.stdout.write(f"{path}: {len(dataset)} rows")
