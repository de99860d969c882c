"""``coverage-import FILE -o STORE``: a bedGraph (dense, one track) or a per-base table
(header row; [contig,] position, [strand,] one column per sample: sparse) into a store."""
from __future__ import annotations

from .common import Command, Result


class CoverageImport(Command):
    name = "coverage-import"
    help = "import a bedGraph or a per-base table (position, strand, samples) into a coverage store"

    def configure(self, parser):
        parser.add_argument("file", help="bedGraph or table (path or fsspec URL; .gz read)")
        parser.add_argument("-o", "--out", required=True, help="store folder or fsspec URL")
        parser.add_argument("--kind", choices=("bedgraph", "table"), default="bedgraph", help="input kind")
        parser.add_argument("--lengths", help=".fai or two-column genome file (default: last listed base)")
        parser.add_argument("--contig", help="table without a contig column: the contig it describes")
        parser.add_argument("--one-based", action="store_true", help="table positions are 1-based")
        parser.add_argument("--delimiter", default="\t", help="table field separator (default tab)")
        parser.add_argument("--track", default="value", help="bedGraph: the track's name (default value)")

    def run(self, args) -> Result:
        from ..coverage.importers import import_bedgraph, import_table, read_lengths

        lengths = read_lengths(args.lengths) if args.lengths else None
        if args.kind == "bedgraph":
            manifest = import_bedgraph(args.file, args.out, track=args.track, lengths=lengths)
        else:
            manifest = import_table(args.file, args.out, lengths=lengths, contig=args.contig,
                                    one_based=args.one_based, delimiter=args.delimiter)
        lines = [f"Imported {args.file} as {len(manifest['contigs'])} contigs x tracks "
                 f"{', '.join(manifest['tracks'])} into {args.out}"]
        return Result(lines, {"out": args.out, "contigs": len(manifest["contigs"]), "tracks": manifest["tracks"]})


COMMAND = CoverageImport()
