"""``token --secret-file F --ids GLOB... [--expires SECONDS]``: a signed bearer token for ``serve``.

The token is a JSON Web Token (HS256) listing the ID globs it may read and its expiry; the
server started with the same ``--secret-file`` accepts it until then.  It is printed alone
on stdout (so ``$(sparkbam token ...)`` works); ``--json`` adds its claims.
"""
from __future__ import annotations

from .common import Command, Result

DEFAULT_SECONDS = 3600


class Token(Command):
    name = "token"
    help = "mint a signed bearer token for 'sparkbam serve --secret-file' (IDs it may read, expiry)"

    def configure(self, parser):
        parser.add_argument("--secret-file", required=True, help="the server's secret file (>= 32 bytes)")
        parser.add_argument("--ids", nargs="+", required=True, metavar="GLOB",
                            help="htsget ID globs the token may read ('runs/*'; '@coverage' for the coverage "
                                 "service; '*' for all)")
        parser.add_argument("--expires", type=int, default=DEFAULT_SECONDS, metavar="SECONDS",
                            help="lifetime in seconds (default 3600)")
        parser.add_argument("--subject", help="who the token is for (logged by the server)")

    def run(self, args) -> Result:
        from ..errors import ConfigError
        from ..serve.tokens import mint_token, read_secret

        if args.expires <= 0:
            raise ConfigError(f"--expires must be positive, got {args.expires}")
        token = mint_token(read_secret(args.secret_file), args.ids, args.expires, args.subject)
        return Result([token], {"token": token, "ids": args.ids, "expires_in": args.expires,
                                "subject": args.subject})


COMMAND = Token()
