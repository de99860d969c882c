"""``coverage BAM... -o OUT``: per-base depth on Spark (``samtools depth -a`` rules) into a store.

The store (a folder or fsspec URL, written by the executors) holds each contig as chunks of
runs of equal depth, with per-chunk sums, so its size follows the reads, not the genome;
``sparkbam serve OUT`` serves it, ``sparkbam coverage-export`` writes bigWig or bedGraph.
"""
from __future__ import annotations

from ..coverage.blocks import DEFAULT_EXCLUDE_FLAGS
from ..coverage.tracks import GROUPINGS
from ..spark.coverage import COVERAGE_FORMATS
from .common import Command, Result


def flag_value(text: str) -> int:
    """A flag given in decimal, hex (0x...) or octal (0...), as samtools takes them."""
    return int(text, 0)


def track_groupings(text: str):
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = sorted(set(names) - set(GROUPINGS))
    if unknown:
        raise ValueError(f"unknown track grouping(s) {', '.join(unknown)}; known: {', '.join(GROUPINGS)}")
    return names


class Coverage(Command):
    name = "coverage"
    help = "per-base depth of BAMs on Spark (samtools depth -a rules), written as a coverage store"
    formats = COVERAGE_FORMATS

    def configure(self, parser):
        parser.add_argument("bams", nargs="+", help="BAM paths, globs, folders or URLs (depths are summed)")
        parser.add_argument("-o", "--out", required=True, help="store folder or fsspec URL")
        parser.add_argument("-m", "--split-size", default=None,
                            help="byte range per task (default: two tasks per core, within 1m..128m)")
        parser.add_argument("-t", "--tracks", type=track_groupings, default=(),
                            help=f"extra track groupings beside 'all', comma-separated: {', '.join(GROUPINGS)}")
        parser.add_argument("-Q", "--min-mapq", type=int, default=0, help="skip reads below this mapping quality")
        parser.add_argument("-G", "--exclude-flags", type=flag_value, default=0,
                            help="add these flags to the default filter (UNMAP,SECONDARY,QCFAIL,DUP)")
        parser.add_argument("-g", "--include-flags", type=flag_value, default=0,
                            help="remove these flags from the default filter")
        parser.add_argument("--require-flags", type=flag_value, default=0, help="count only reads with all these flags")
        parser.add_argument("-J", "--count-deletions", action="store_true", help="deletions (D) count as covered")

    def run(self, args) -> Result:
        from ..spark.coverage import compute_coverage
        from .comparison import session

        self.input_format(args.bams)
        spark = session("sparkbam coverage")
        manifest = compute_coverage(
            spark, args.bams, args.out, split_size=args.split_size, tracks=args.tracks, min_mapq=args.min_mapq,
            exclude_flags=(DEFAULT_EXCLUDE_FLAGS | args.exclude_flags) & ~args.include_flags,
            require_flags=args.require_flags, count_deletions=args.count_deletions)
        contigs = manifest["contigs"]
        bases = sum(contig["length"] for contig in contigs)
        lines = [f"Wrote {len(contigs)} contigs ({bases} bases) x {len(manifest['tracks'])} tracks "
                 f"({', '.join(manifest['tracks'])}) to {args.out}: {manifest['chunks']} chunks not all zero, "
                 f"{manifest['stored_bytes']} bytes"]
        data = {"out": args.out, "contigs": len(contigs), "bases": bases, "tracks": manifest["tracks"],
                "filters": manifest["filters"], "chunks": manifest["chunks"], "stored_bytes": manifest["stored_bytes"]}
        return Result(lines, data)


COMMAND = Coverage()
