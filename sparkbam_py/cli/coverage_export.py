"""``coverage-export STORE --track T [--bigwig OUT.bw] [--bedgraph OUT.bedgraph]``: one track of
a coverage store for IGV, igv.js or UCSC (runs of 0 left out; bigWig with zoom levels), streamed a
batch of chunks at a time; the store and the outputs may be local paths or fsspec URLs."""
from __future__ import annotations

from .common import Command, Result


class CoverageExport(Command):
    name = "coverage-export"
    help = "write one track of a coverage store as bigWig and/or bedGraph"

    def configure(self, parser):
        parser.add_argument("store", help="coverage store folder or fsspec URL")
        parser.add_argument("--track", default="all", help="track name or index (default: all)")
        parser.add_argument("--bigwig", help="bigWig file to write (path or fsspec URL)")
        parser.add_argument("--bedgraph", help="bedGraph file to write (path or fsspec URL; .gz compresses)")

    def run(self, args) -> Result:
        from ..coverage.export import export_bedgraph, export_bigwig
        from ..coverage.store import CoverageStore
        from ..errors import ConfigError

        if not (args.bigwig or args.bedgraph):
            raise ConfigError("give --bigwig and/or --bedgraph")
        store = CoverageStore(args.store)
        store.track_indexes([args.track])  # an unknown track fails before anything is written
        data, lines = {"store": args.store, "track": args.track}, []
        if args.bigwig:
            data["bigwig_runs"] = export_bigwig(store, args.track, args.bigwig)
            lines.append(f"Wrote {data['bigwig_runs']} runs of track {args.track} to {args.bigwig}")
        if args.bedgraph:
            data["bedgraph_lines"] = export_bedgraph(store, args.track, args.bedgraph)
            lines.append(f"Wrote {data['bedgraph_lines']} lines of track {args.track} to {args.bedgraph}")
        return Result(lines, data)


COMMAND = CoverageExport()
